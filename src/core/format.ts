/** Number and byte formatting shared by the text summaries (report/text.ts and each host's lines). */
export const n = (x: number): string => Math.round(x).toLocaleString('en-US');

export function bytes(x: number): string {
  if (x >= 1 << 30) return `${(x / (1 << 30)).toFixed(2)} GiB`;
  if (x >= 1 << 20) return `${(x / (1 << 20)).toFixed(1)} MiB`;
  if (x >= 1024) return `${(x / 1024).toFixed(0)} KiB`;
  return `${x} B`;
}
