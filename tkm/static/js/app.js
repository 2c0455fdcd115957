// Small progressive enhancements; every page works without JavaScript.
document.addEventListener("htmx:configRequest", (event) => {
  const meta = document.body.getAttribute("hx-headers");
  if (meta) {
    try { Object.assign(event.detail.headers, JSON.parse(meta)); } catch (_) { /* keep defaults */ }
  }
});
