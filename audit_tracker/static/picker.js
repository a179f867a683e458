// The criterion page's picker: search-as-you-type over the library (title, file text, a
// criterion's code), each result with a « Lier » button that posts the same form as without
// JavaScript. Without JavaScript the search form is a plain GET and the page lists the results.
(function () {
  "use strict";
  const form = document.getElementById("picker-form");
  const list = document.getElementById("picker-results");
  const rowTemplate = document.getElementById("picker-row");
  if (!form || !list || !rowTemplate) { return; }
  const input = form.querySelector("input[name=chercher]");
  const note = document.getElementById("picker-note");
  const criterionId = rowTemplate.content.querySelector("input[name=criterion_id]").value;
  let timer = null;
  let asked = 0;

  function copyNote(row) {
    row.querySelector("form").addEventListener("submit", function (event) {
      event.target.querySelector("input[name=note]").value = note.value;
    });
  }
  list.querySelectorAll("form").forEach(function (f) {
    f.addEventListener("submit", function () { f.querySelector("input[name=note]").value = note.value; });
  });

  function show(results) {
    list.replaceChildren();
    if (!results.length) {
      const empty = document.createElement("li");
      empty.className = "list-group-item text-muted small";
      empty.textContent = list.dataset.empty;
      list.appendChild(empty);
      return;
    }
    results.forEach(function (item) {
      const row = rowTemplate.content.firstElementChild.cloneNode(true);
      const title = row.querySelector("[data-title]");
      title.textContent = item.title;
      title.href = item.url;
      row.querySelector("[data-meta]").textContent = item.kind + " · " + item.status +
        (item.criteria.length ? " · " + item.criteria.join(", ") : "");
      const linkForm = row.querySelector("form");
      if (item.linked) {
        const done = document.createElement("span");
        done.className = "small text-muted";
        done.textContent = list.dataset.linkedLabel;
        linkForm.replaceWith(done);
      } else {
        linkForm.action = item.link_url;
        copyNote(row);
      }
      list.appendChild(row);
    });
  }

  function ask() {
    const query = input.value.trim();
    if (query.length < 2) { list.replaceChildren(); return; }
    const mine = ++asked;
    const url = form.dataset.pickerUrl + "?q=" + encodeURIComponent(query) +
      "&critere=" + encodeURIComponent(criterionId);
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : { results: [] }; })
      .then(function (body) { if (mine === asked) { show(body.results || []); } })
      .catch(function () { /* the GET form still works */ });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(ask, 200);
  });
  form.addEventListener("submit", function (event) { event.preventDefault(); ask(); });
  // Typed before this script ran (a fast typist, the browser restoring the field): search now.
  if (input.value.trim().length >= 2 && !list.children.length) { ask(); }
}());
