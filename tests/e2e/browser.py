"""Driving the page the way a loaded machine allows: every step waits for its condition (tests/waits.py).

Dash re-renders parts of the page at every callback, so an element found a moment ago may be gone (stale) or
not drawn yet. These helpers read the page in one script where they can (nothing to go stale), and retry a
found element's action until it takes. `dash_br`'s own `wait_for_*` methods use the same deadline
(the fixture in tests/e2e/conftest.py).
"""
from __future__ import annotations

from typing import Any

from selenium.common.exceptions import (ElementClickInterceptedException, ElementNotInteractableException,
                                        NoSuchElementException, StaleElementReferenceException)
from selenium.webdriver.common.keys import Keys

from tests.waits import wait_until

from .servers import PASSWORD, USERS

# What a re-rendering page throws at a test that found an element a moment too early or too late.
PAGE_CHURN = (StaleElementReferenceException, NoSuchElementException, ElementClickInterceptedException,
              ElementNotInteractableException)
# innerText: the text as shown (an element not drawn, e.g. hidden, gives its whole text).
TEXT_JS = "const e = document.querySelector(arguments[0]); return e === null ? null : e.innerText"


def text_of(dash_br, selector: str) -> str | None:
    """The first element's text, or None when there is none: read in one script, so never stale."""
    return dash_br.driver.execute_script(TEXT_JS, selector)


def wait_for_text(dash_br, selector: str, text: str) -> str:
    """Waits until `selector`'s text contains `text`; returns the whole text."""
    return wait_until(lambda: (found := text_of(dash_br, selector)) is not None and text in found and found,
                      f"{text!r} in {selector}")


def script_until(dash_br, script: str, what: str, *args: Any) -> Any:
    """Runs `script` (it `return`s a value) until its value is truthy; returns that value."""
    return wait_until(lambda: dash_br.driver.execute_script(script, *args), what)


def idle(dash_br) -> None:
    """Waits until Dash has no callback in flight (an action taken while the page settles can be lost)."""
    script_until(dash_br, "return !document.querySelector('[data-dash-is-loading=\"true\"]')", "Dash to be idle")


def click(dash_br, selector: str, index: int = 0) -> None:
    """Clicks the `index`-th element matching `selector` once it is there and clickable, finding it again if the
    page replaced it meanwhile."""
    wait_until(lambda: dash_br.find_elements(selector)[index].click() or True, f"{selector} [{index}] to take a click",
               ignoring=PAGE_CHURN + (IndexError,))


def follow(dash_br, selector: str, path: str) -> None:
    """Clicks the link `selector` until the page's URL contains `path`: a link that a poll re-rendered just as it
    was clicked was clicked in vain (a user clicks again)."""
    def arrived() -> bool:
        if path in dash_br.driver.current_url:
            return True
        try:
            dash_br.find_element(selector).click()
        except PAGE_CHURN:
            pass
        return path in dash_br.driver.current_url

    wait_until(arrived, f"{selector} to lead to {path}", every=1.0)


def type_into(dash_br, selector: str, text: str) -> None:
    """Replaces a field's text as a user does (select all, delete, type): clear() does not reach React's state."""
    def typed() -> bool:
        field = dash_br.find_element(selector)
        field.send_keys(Keys.CONTROL, "a")
        field.send_keys(Keys.DELETE)
        if text:
            field.send_keys(text)
        return True

    wait_until(typed, f"{selector} to take text", ignoring=PAGE_CHURN)


def select(dash_br, dropdown: str, *, label: str | None = None, index: int | None = None) -> None:
    """Opens a dcc.Dropdown and picks the option shown as `label` (or the `index`-th one) once the menu is drawn."""
    click(dash_br, dropdown)

    def picked() -> bool:
        options = dash_br.find_elements(".dash-dropdown-options .dash-dropdown-option")
        chosen = options[index] if index is not None and index < len(options) else next(
            (option for option in options if option.text == label), None)
        if chosen is None:
            return False
        chosen.click()
        return True

    wait_until(picked, f"option {label if index is None else index} of {dropdown}", ignoring=PAGE_CHURN)


def login(dash_br, url: str, role: str = "nurse", then: str = "/") -> None:
    """Signs in through the real login form as the role's account (servers.USERS), then opens `then`."""
    dash_br.driver.get(f"{url}/login?next={then}")
    type_into(dash_br, "#login-user", USERS[role])
    type_into(dash_br, "#login-password", PASSWORD)
    click(dash_br, "#login-submit")
    dash_br.wait_for_element("#react-entry-point")
    dash_br._url = url
