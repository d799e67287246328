// Phones and tablets show the chapter menu and the page contents as dialogs. A tap on
// one of their links closes the dialog, so that the reader sees where the link led
// (a section of this page, or the next page while it loads).
document.addEventListener("click", (event) => {
  const link = event.target.closest("dialog[open] a[href]");
  if (link) link.closest("dialog").close();
});

// Code blocks and display equations wider than the text column scroll sideways. Touch
// screens (and many desktops) show no scrollbar until one scrolls, so an inner shadow on
// the side where more is hidden says that the line goes on.
const SCROLLERS = "div.highlight pre, div.math > mjx-container";

function markOverflow(el) {
  const hidden = el.scrollWidth - el.clientWidth;
  el.classList.toggle("scroll-more-right", hidden > 1 && el.scrollLeft < hidden - 1);
  el.classList.toggle("scroll-more-left", hidden > 1 && el.scrollLeft > 1);
}

function markAllOverflows() {
  document.querySelectorAll(SCROLLERS).forEach(markOverflow);
}

document.addEventListener(
  "scroll",
  (event) => {
    if (event.target instanceof Element && event.target.matches(SCROLLERS)) {
      markOverflow(event.target);
    }
  },
  true,
);
window.addEventListener("resize", markAllOverflows);
window.addEventListener("load", () => {
  markAllOverflows();
  const startup = window.MathJax && window.MathJax.startup;
  if (startup && startup.promise) startup.promise.then(markAllOverflows);
});
