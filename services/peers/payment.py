"""What payment's contract says of a card number, which the payment gateway checks alike."""


def luhn_valid(number: str) -> bool:
    """12 to 19 digits whose Luhn checksum is right."""
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0
