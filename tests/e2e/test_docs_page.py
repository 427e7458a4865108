"""GET /docs at the edge, in a real browser (Debian's Chromium, driven by Playwright): the page
loads with no console error and asks nothing of anywhere but the edge, lists the services behind
the edge, and a catalogue search tried from it answers 200; a sign-in tried from it authorizes
the calls tried after it. The page is left as a screenshot in the run folder (.run-test/docs.png)."""
import json
import shutil

import pytest
from playwright.sync_api import Page, sync_playwright

from .conftest import EDGE, STRONG_PASSWORD, new_email, register

EDGE_URL = f"http://{EDGE}"


@pytest.fixture(scope="module")
def docs(mesh):
    """The docs page, opened; with every console error and every request made elsewhere."""
    seen = {"errors": [], "elsewhere": []}
    with sync_playwright() as playwright:
        # As root Chromium only runs without its sandbox; the page is the edge's own.
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 1600})
        page.on("console", lambda message: message.type == "error" and seen["errors"].append(message.text))
        page.on("pageerror", lambda error: seen["errors"].append(str(error)))
        page.on("request", lambda request: request.url.startswith(EDGE_URL + "/")
                or request.url.startswith("data:") or seen["elsewhere"].append(request.url))
        page.goto(f"{EDGE_URL}/docs")
        page.wait_for_selector("#operations-tag-AuthService")
        yield page, seen
        browser.close()


def _scrolled_through(page: Page, found) -> set:
    """Scrolls the page from the top until `found()` is true or the end, as a reader would (Swagger
    UI draws only the operations near the screen); returns the services' headings passed by."""
    headings: set = set()
    page.evaluate("() => window.scrollTo(0, 0)")
    for _ in range(200):
        headings |= set(page.locator("h3.opblock-tag").evaluate_all("tags => tags.map(tag => tag.id)"))
        if found() or page.evaluate("() => window.innerHeight + window.scrollY >= document.body.scrollHeight"):
            break
        page.mouse.wheel(0, 600)
        page.wait_for_timeout(20)
    return headings


def _try(page: Page, service: str, operation: str, body: dict | None = None) -> str:
    """Opens an operation, tries it out (with `body` as its JSON body) and returns the status the
    page shows for the answer."""
    block = page.locator(f"#operations-{service}-{operation}")
    _scrolled_through(page, lambda: block.count() > 0)
    block.locator(".opblock-summary").first.click()
    block.locator(".try-out__btn").click()
    if body is not None:
        block.locator("textarea.body-param__text").fill(json.dumps(body))
    block.locator("button.execute").click()
    status = block.locator(".live-responses-table .response .response-col_status")
    status.wait_for()
    return status.inner_text().strip()


def test_the_page_lists_the_services_behind_the_edge_without_errors(docs):
    page, seen = docs
    headings = _scrolled_through(page, lambda: False)
    services = ("Auth", "Booking", "Catalog", "Config", "Customer", "Financing", "Insurance", "Inventory",
                "Monitoring", "Notification", "Overview", "Payment", "Pricing", "Reporting", "Sales")
    assert headings == {f"operations-tag-{service}Service" for service in services}
    assert seen["errors"] == [] and seen["elsewhere"] == []


def test_a_catalogue_search_tried_from_the_page_answers_200(docs, mesh):
    page, seen = docs
    assert _try(page, "CatalogService", "CatalogService_ListModels") == "200"
    page.screenshot(path=str(mesh.run_dir / "docs.png"))
    assert seen["errors"] == [] and seen["elsewhere"] == []


def test_signing_in_from_the_page_authorizes_the_calls_after_it(docs, edge):
    page, seen = docs
    email = new_email("docs")
    register(edge, email)
    assert _try(page, "AuthService", "AuthService_GetCurrentUser") == "401"
    signed_in = _try(page, "AuthService", "AuthService_Login",
                     {"email": email, "password": STRONG_PASSWORD})
    assert signed_in == "200"
    authorized = page.evaluate("() => window.ui.authSelectors.authorized().toJS()")
    assert authorized["bearer"]["value"].startswith("Bearer ")
    block = page.locator("#operations-AuthService-AuthService_GetCurrentUser")
    _scrolled_through(page, lambda: block.count() > 0)
    block.locator("button.execute").click()
    page.wait_for_function(
        """() => document.querySelector('#operations-AuthService-AuthService_GetCurrentUser'
               + ' .live-responses-table .response .response-col_status').innerText.trim() === '200'""")
    # The 401 above was an answer, not an error of the page's.
    assert [error for error in seen["errors"] if "401" not in error] == []


def test_the_page_and_its_files_forbid_scripts_and_calls_from_elsewhere(edge):
    for path in ("/docs", "/docs/docs.js", "/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css"):
        answer = edge.get(path)
        assert answer.status_code == 200, path
        policy = answer.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "connect-src 'self'" in policy, path
    assert edge.get("/docs").headers["content-type"].startswith("text/html")
    assert edge.get("/docs/", follow_redirects=False).headers["location"].endswith("/docs")
