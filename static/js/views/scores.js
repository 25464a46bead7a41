// The run's scores beside the loss: accuracy (train and test) and the test confusion matrix for
// classes, R² for regression (GET /api/runs/{id}/scores). Refreshed while the page is visible.
import { get } from "../lib/api.js";
import { fmt } from "../lib/format.js";
import { escapeHtml } from "../lib/html.js";

const EVERY_MS = 1500;

export class ScoresView {
  // root holds the figures (data-testid accuracy, test-accuracy, r2, test-r2, confusion) and
  // the [data-scores] elements shown for classes or for regression; #scores is shown once known.
  constructor(root, runId) {
    this.root = root;
    this.runId = runId;
    this.$ = (name) => root.querySelector(`[data-testid="${name}"]`);
    this.busy = false;
    this.lastStep = -1;
    setInterval(() => document.visibilityState === "visible" && this.refresh(), EVERY_MS);
  }

  // The page calls this on each step it learns of; scores are fetched at most once per period.
  async refresh() {
    if (this.busy) return;
    this.busy = true;
    try {
      const scores = await get(`/api/runs/${this.runId}/scores`);
      if (scores.step !== this.lastStep) this.show(scores);
      this.lastStep = scores.step;
    } catch {
      // A run that cannot be scored now (no weights yet) keeps its last figures.
    } finally {
      this.busy = false;
    }
  }

  show(scores) {
    const classes = scores.class_names !== null;
    this.root.querySelector("#scores").hidden = false;
    for (const el of this.root.querySelectorAll("[data-scores]"))
      el.hidden = el.dataset.scores !== (classes ? "classes" : "regression");
    const percent = (v) => (v === null ? "–" : `${(100 * v).toFixed(1)} %`);
    this.$("accuracy").textContent = percent(scores.accuracy);
    this.$("test-accuracy").textContent = percent(scores.test_accuracy);
    this.$("r2").textContent = scores.r2 === null ? "–" : fmt(scores.r2, 4);
    this.$("test-r2").textContent = scores.test_r2 === null ? "–" : fmt(scores.test_r2, 4);
    if (classes) this.showConfusion(scores.class_names, scores.test_confusion ?? scores.confusion);
  }

  showConfusion(names, matrix) {
    const head = names.map((n) => `<th scope="col">${escapeHtml(n)}</th>`).join("");
    const rows = matrix
      .map(
        (row, i) =>
          `<tr><th scope="row">${escapeHtml(names[i])}</th>${row
            .map((n, j) => `<td class="${i === j ? "hit" : n ? "miss" : ""}">${n}</td>`)
            .join("")}</tr>`,
      )
      .join("");
    this.$("confusion").innerHTML =
      `<thead><tr><th scope="col">true \\ predicted</th>${head}</tr></thead><tbody>${rows}</tbody>`;
  }
}
