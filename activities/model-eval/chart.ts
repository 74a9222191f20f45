/**
 * The report chart: a self-contained SVG with one horizontal bar panel per metric (ROUGE-Lsum: higher is better;
 * ratings RMSE: lower is better), one bar per model, values printed at the bar ends.
 */

export interface ChartRow {
  model: string;
  rougeLsum: number | null;
  ratingsRmse: number | null;
  fineTuned: boolean;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function renderChart(rows: readonly ChartRow[], title: string): string {
  const panels: Array<{ label: string; key: 'rougeLsum' | 'ratingsRmse'; max: number }> = [{ label: 'text ROUGE-Lsum (higher is better)', key: 'rougeLsum', max: 1 }];
  const rmses = rows.map((r) => r.ratingsRmse).filter((v): v is number => v !== null);
  if (rmses.length) panels.push({ label: 'ratings RMSE (lower is better)', key: 'ratingsRmse', max: Math.max(...rmses) * 1.15 || 1 });
  const labelW = Math.min(260, 12 + 7.2 * Math.max(...rows.map((r) => r.model.length), 5));
  const barW = 300;
  const rowH = 26;
  const panelW = labelW + barW + 70;
  const headH = 46;
  const height = headH + rows.length * rowH + 40;
  const width = panelW * panels.length + 20;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="13">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">${esc(title)}</text>`,
  ];
  panels.forEach((p, pi) => {
    const x0 = 10 + pi * panelW;
    parts.push(`<text x="${x0}" y="${headH - 8}" font-weight="bold">${esc(p.label)}</text>`);
    rows.forEach((r, i) => {
      const y = headH + i * rowH;
      const v = r[p.key];
      parts.push(`<text x="${x0 + labelW - 8}" y="${y + 17}" text-anchor="end">${esc(r.model)}</text>`);
      if (v === null) {
        parts.push(`<text x="${x0 + labelW + 4}" y="${y + 17}" fill="#888">n/a</text>`);
        return;
      }
      const w = Math.max(1, Math.round((Math.min(v, p.max) / p.max) * barW));
      parts.push(
        `<rect x="${x0 + labelW}" y="${y + 4}" width="${w}" height="${rowH - 8}" fill="${r.fineTuned ? '#e8710a' : '#1a73e8'}"><title>${esc(r.model)}: ${v.toFixed(4)}</title></rect>`,
        `<text x="${x0 + labelW + w + 5}" y="${y + 17}">${v.toFixed(4)}</text>`,
      );
    });
  });
  parts.push(
    `<rect x="10" y="${height - 22}" width="12" height="12" fill="#e8710a"/><text x="27" y="${height - 12}">fine-tuned</text>`,
    `<rect x="110" y="${height - 22}" width="12" height="12" fill="#1a73e8"/><text x="127" y="${height - 12}">baseline</text>`,
    '</svg>',
  );
  return parts.join('\n');
}
