/**
 * Saving files from the UI: an <a download> on a blob URL, which a browser saves as a download
 * and Electron hands to its download manager (a save dialog). No server round trip.
 */
export function downloadBlob(fileName: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
  // Revoked later: revoking at once can cancel the download in some browsers.
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}

export function downloadText(fileName: string, text: string, type: string): void {
  downloadBlob(fileName, new Blob([text], { type }));
}

/** A file name without characters that file systems refuse. */
export function safeFileName(s: string): string {
  return s.replace(/[\\/:*?"<>|\u0000-\u001f]+/g, '_').trim() || 'circuit';
}

/**
 * Rasterises an SVG string to a PNG blob through an <img> and a canvas. The image is a data:
 * URL because the CSP allows `img-src 'self' data:` (blob: is not listed).
 */
export async function svgToPng(svg: string, scale = 2, maxSide = 8000): Promise<Blob> {
  const img = new Image();
  img.decoding = 'async';
  img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
  await img.decode();
  const w0 = img.naturalWidth || 800;
  const h0 = img.naturalHeight || 600;
  const s = Math.min(scale, maxSide / Math.max(w0, h0));
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(w0 * s));
  canvas.height = Math.max(1, Math.round(h0 * s));
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('this browser gives no 2D canvas to draw the PNG on');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
  return new Promise((ok, fail) => canvas.toBlob((b) => (b ? ok(b) : fail(new Error('the PNG could not be encoded'))), 'image/png'));
}
