// The run form's own-data kinds: "csv" (an uploaded file, views/csv_upload.js) and "draw" (points
// drawn on the page, views/point_editor.js), which is sent as a csv data set of its points.
import { ApiError } from "../lib/api.js";
import { CsvUpload, uploadCsv } from "./csv_upload.js";
import { PointEditor } from "./point_editor.js";

export class OwnData {
  constructor(form, { setEnds }) {
    this.csv = new CsvUpload(form.querySelector("#csv-upload"), {
      onShape: (shape) => shape && setEnds(shape[0], shape[1]),
    });
    this.points = new PointEditor(form.querySelector("#draw-canvas"), {
      classSelect: form.querySelector("#f-draw-class"),
      clearButton: form.querySelector("#draw-clear"),
      count: form.querySelector("#draw-count"),
    });
  }

  fields(kind) {
    return kind === "csv" ? this.csv.fields() : {};
  }

  // Drawn points go up as a CSV data set first; the run then names it like any uploaded one.
  async prepare(config) {
    if (config.dataset.kind !== "draw") return config;
    const labels = new Set(this.points.points.map((p) => p.label));
    if (this.points.points.length < 4 || labels.size < 2)
      throw new ApiError(422, [{ loc: ["body", "draw"], msg: "Draw at least four points, of both colours." }]);
    const info = await uploadCsv(this.points.toCsv());
    const { seed, test_fraction } = config.dataset;
    const dataset = { kind: "csv", id: info.id, inputs: ["x1", "x2"], targets: ["label"], labels: true };
    return { ...config, dataset: { ...dataset, seed, test_fraction } };
  }
}
