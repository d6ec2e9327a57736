/* Dash 4.4.1's own controls carry ARIA that contradicts their HTML; axe-core reports each as serious or critical
   (tests/e2e/test_accessibility_in_browser.py) and a screen reader reads them wrong. Dash takes no ARIA props on
   these components, so the attributes are corrected here, each repair touching only what is named below:

   - RadioItems, Checklist: the list says role="listbox" and each <label> role="option" (+ aria-selected), yet each
     label wraps a real <input type="radio|checkbox">: an option holding a focusable control, a listbox with no
     name. The native inputs say all of it (role, checked, keyboard), so the two roles go; the group is named by
     our own <fieldset><legend> around it (the page modules).
   - Dropdown: keyboard focus lands first on a relay (an <input> that passes focus on to the Dropdown's button) that
     is aria-hidden yet focusable. It keeps relaying, no longer hidden, and carries the button's name.
   - DatePickerRange: aria-expanded and aria-haspopup on a plain <div> (allowed only on a role that opens
     something; its inputs are named on their own), and a "clear" <a> without href, named but not a control: it
     becomes a button.

   React leaves alone an attribute whose prop did not change, and this observer repairs what a re-render redraws.
   Delete a repair when the pinned Dash renders it right (the accessibility test shows which). */
(function () {
  function repair(root) {
    root.querySelectorAll(".dash-options-list[role=listbox]").forEach(function (list) {
      list.removeAttribute("role");
    });
    root.querySelectorAll(".dash-options-list-option[role=option], .dash-options-list-option[aria-selected]")
      .forEach(function (option) {
        option.removeAttribute("role");
        option.removeAttribute("aria-selected");
      });
    root.querySelectorAll(".dash-dropdown-focus-target[aria-hidden]").forEach(function (relay) {
      const button = relay.nextElementSibling;
      relay.removeAttribute("aria-hidden");
      if (button && button.getAttribute("aria-labelledby")) {
        relay.setAttribute("aria-labelledby", button.getAttribute("aria-labelledby"));
      }
    });
    root.querySelectorAll(".dash-datepicker-input-wrapper[aria-expanded], .dash-datepicker-input-wrapper[aria-haspopup]")
      .forEach(function (wrapper) {
        wrapper.removeAttribute("aria-expanded");
        wrapper.removeAttribute("aria-haspopup");
      });
    root.querySelectorAll("a.dash-datepicker-clear:not([role])").forEach(function (clear) {
      clear.setAttribute("role", "button");
    });
  }
  const ATTRIBUTES = ["role", "aria-selected", "aria-hidden", "aria-expanded", "aria-haspopup"];
  function start() {
    repair(document);
    new MutationObserver(function () { repair(document); }).observe(document.body, {
      childList: true, subtree: true, attributes: true, attributeFilter: ATTRIBUTES });
  }
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
