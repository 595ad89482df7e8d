// Search as you type: the rows of the users table are fetched again, from the server's
// own rendering, a moment after each keystroke. Without script the form still searches.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("search");
  const rows = document.getElementById("user-rows");
  if (!box || !rows) return;
  let timer = 0;
  let latest = 0;
  box.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const asked = ++latest;
      const q = box.value;
      const res = await fetch(box.dataset.rows + "?q=" + encodeURIComponent(q), { credentials: "same-origin" });
      if (!res.ok || asked !== latest) return;
      rows.innerHTML = await res.text();
      rows.dataset.query = q;
      history.replaceState(null, "", "?q=" + encodeURIComponent(q));
    }, 150);
  });
});
