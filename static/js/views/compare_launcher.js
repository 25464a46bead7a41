// The home page's ways into the compare page: "Compare selected" (2-4 ticked runs) and the
// preset pairs, which create the article's example twice, differing in one field.
import { ApiError, del, post } from "../lib/api.js";
import { pairConfigs } from "./presets.js";

export const MIN_RUNS = 2;
export const MAX_RUNS = 4;

export function compareUrl(ids) {
  return `/compare?runs=${ids.map(encodeURIComponent).join(",")}`;
}

export class CompareLauncher {
  constructor({ button, count, pairButtons, error }) {
    this.button = button;
    this.count = count;
    this.error = error;
    this.ids = [];
    button.addEventListener("click", () => this.ids.length >= MIN_RUNS && location.assign(compareUrl(this.ids)));
    for (const b of pairButtons) b.addEventListener("click", () => this.createPair(b));
    this.setSelection([]);
  }

  // The ticked runs, in the order they were ticked.
  setSelection(ids) {
    this.ids = ids;
    const n = ids.length;
    this.button.disabled = n < MIN_RUNS || n > MAX_RUNS;
    this.count.textContent =
      n === 0
        ? "Tick two to four runs to compare them side by side."
        : n > MAX_RUNS
          ? `${n} ticked: compare at most ${MAX_RUNS}.`
          : `${n} ticked${n < MIN_RUNS ? ": tick at least one more" : ""}.`;
  }

  async createPair(button) {
    button.disabled = true;
    this.error.textContent = "";
    const created = [];
    try {
      for (const config of pairConfigs(button.dataset.pair)) created.push((await post("/api/runs", config)).id);
      location.assign(compareUrl(created));
    } catch (err) {
      this.error.textContent = `Could not create the runs: ${err instanceof ApiError ? err.describe() : String(err)}`;
      await Promise.all(created.map((id) => del(`/api/runs/${id}`).catch(() => null)));
      button.disabled = false;
    }
  }
}
