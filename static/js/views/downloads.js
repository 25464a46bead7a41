// Download buttons: the run's export (JSON), its every-step history (CSV) and the loss chart as
// a PNG. The first two are plain links to the API; the chart is read from its canvas.
export class Downloads {
  constructor(root, runId, lossCanvas) {
    const base = `/api/runs/${encodeURIComponent(runId)}`;
    root.querySelector("[data-testid=download-export]").href = `${base}/export`;
    root.querySelector("[data-testid=download-history]").href = `${base}/history?format=csv`;
    root.querySelector("[data-testid=download-png]").addEventListener("click", () => {
      lossCanvas.toBlob((blob) => {
        const link = document.createElement("a");
        link.href = URL.createObjectURL(blob);
        link.download = `run-${runId}-loss.png`;
        link.click();
        setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
      }, "image/png");
    });
  }
}
