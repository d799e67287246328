// Phones and tablets show the chapter menu and the page contents as dialogs. A tap on
// one of their links closes the dialog, so that the reader sees where the link led
// (a section of this page, or the next page while it loads).
document.addEventListener("click", (event) => {
  const link = event.target.closest("dialog[open] a[href]");
  if (link) link.closest("dialog").close();
});
