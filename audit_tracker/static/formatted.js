// « Aperçu » under a formatted text field: the server renders the text as pages show it.
"use strict";
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-preview-for]");
  if (!button) return;
  const field = document.getElementById(button.dataset.previewFor);
  const box = document.getElementById(button.dataset.previewFor + "-preview");
  const token = field.form && field.form.querySelector("input[name=csrf_token]");
  const data = new FormData();
  data.append("text", field.value);
  if (token) data.append("csrf_token", token.value);
  const response = await fetch(button.dataset.previewUrl, {
    method: "POST", body: data, headers: {"X-Requested-With": "fetch"}, credentials: "same-origin",
  });
  if (!response.ok) return;
  box.innerHTML = (await response.json()).html;  // sanitised by the server (nh3)
  box.classList.remove("d-none");
});
