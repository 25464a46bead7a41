// The input plane of a 2-D data set as a grid of points, and painting one value per cell: shared by
// the output heatmap (data view) and the per-neuron pictures (neuron maps).

// cells × cells points over [−extent, extent]², row-major from the top-left, flat [x1, x2, x1, x2, …]
// (row r is x2 from +extent down, column c is x1 from −extent up), cell centres.
export function planeGrid(cells, extent) {
  const grid = new Float64Array(cells * cells * 2);
  for (let r = 0; r < cells; r++) {
    for (let c = 0; c < cells; c++) {
      grid[(r * cells + c) * 2] = extent * (-1 + (2 * (c + 0.5)) / cells);
      grid[(r * cells + c) * 2 + 1] = extent * (1 - (2 * (r + 0.5)) / cells);
    }
  }
  return grid;
}

// Paint `cells`² colours into `target` (a small canvas, one pixel a cell): colorAt(k) -> [r, g, b].
// The caller scales it up with drawImage, letting the canvas smooth between cells.
export function paintCells(target, cells, colorAt) {
  target.width = cells;
  target.height = cells;
  const ctx = target.getContext("2d");
  const image = ctx.createImageData(cells, cells);
  for (let k = 0; k < cells * cells; k++) {
    const [red, green, blue] = colorAt(k);
    image.data[k * 4] = red;
    image.data[k * 4 + 1] = green;
    image.data[k * 4 + 2] = blue;
    image.data[k * 4 + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
  return target;
}
