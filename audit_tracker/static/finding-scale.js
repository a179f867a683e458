// Show only the finding scale of the chosen framework; without JavaScript every scale is listed.
(function () {
  "use strict";
  const framework = document.getElementById("framework_id");
  const type = document.getElementById("type_code");
  if (!framework || !type) { return; }
  function sync() {
    let same = null, first = null;
    type.querySelectorAll("optgroup").forEach(function (group) {
      const on = group.dataset.framework === framework.value;
      group.hidden = !on;
      group.disabled = !on;
      if (on) {
        group.querySelectorAll("option").forEach(function (option) {
          first = first || option;
          if (!same && option.value === type.value) { same = option; }
        });
      }
    });
    const chosen = type.selectedOptions[0];
    if ((!chosen || chosen.parentElement.disabled) && (same || first)) { (same || first).selected = true; }
  }
  framework.addEventListener("change", sync);
  sync();
})();
