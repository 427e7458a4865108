import argparse

from . import go, python, typescript

BUILDERS = {"python": python.build, "go": go.build, "typescript": typescript.build}


def main() -> None:
    parser = argparse.ArgumentParser(prog="./scripts/sdk", description="Builds the partner clients from proto/.")
    parser.add_argument("languages", nargs="*", metavar="language",
                        help=f"one or more of {', '.join(BUILDERS)} (default: all)")
    languages = parser.parse_args().languages or list(BUILDERS)
    unknown = sorted(set(languages) - set(BUILDERS))
    if unknown:
        parser.error(f"no client for {', '.join(unknown)}: choose from {', '.join(BUILDERS)}")
    for language in languages:
        print(BUILDERS[language]())


if __name__ == "__main__":
    main()
