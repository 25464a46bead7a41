// Home: the runs list and the new-run form. The form opens with the config in the URL, if any,
// else with the article's example.
import { CompareLauncher } from "../views/compare_launcher.js";
import { OwnData } from "../views/own_data.js";
import { RunForm } from "../views/run_form.js";
import { RunsList } from "../views/runs_list.js";

const launcher = new CompareLauncher({
  button: document.getElementById("compare-selected"),
  count: document.getElementById("compare-count"),
  pairButtons: [...document.querySelectorAll("[data-pair]")],
  error: document.getElementById("pair-error"),
});
const list = new RunsList(
  document.getElementById("runs-body"),
  document.getElementById("runs-empty"),
  document.getElementById("runs-updated"),
  {
    onSelect: (ids) => launcher.setSelection(ids),
  },
);
const formElement = document.getElementById("run-form");
const ownData = new OwnData(formElement, { setEnds: (inputs, outputs) => form.layers.setEnds(inputs, outputs) });
const form = new RunForm(formElement, {
  presetButtons: [...document.querySelectorAll("[data-preset]")],
  presetNote: document.getElementById("preset-note"),
  onCreated: (run) => location.assign(`/runs/${encodeURIComponent(run.id)}`),
  ownData,
});
if (!form.loadFromUrl()) form.applyPreset("article");
list.refresh();
// Poll gently; a hidden tab does not poll at all.
setInterval(() => document.visibilityState === "visible" && list.refresh(), 2000);
