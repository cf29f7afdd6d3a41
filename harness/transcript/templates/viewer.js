/* impasse viewer: toggles only. Every text on the page was escaped when the file was written. */
(function () {
  "use strict";
  var body = document.body;
  var privateBox = document.getElementById("toggle-private");
  var violationsBox = document.getElementById("toggle-violations");

  function apply() {
    body.classList.toggle("show-private", privateBox.checked);
    if (violationsBox) {
      body.classList.toggle("only-violations", violationsBox.checked);
    }
  }

  privateBox.addEventListener("change", apply);
  if (violationsBox) {
    violationsBox.addEventListener("change", apply);
  }
  apply();

  // The run as data, for anyone exploring in the developer console: impasseRun.transcript.
  var island = document.getElementById("impasse-data");
  if (island) {
    window.impasseRun = JSON.parse(island.textContent);
  }
})();
