/** The meaningful lines of a config file: comments (`#` to end of line) and blank lines removed, numbers kept. */
export interface ContentLine {
  /** 1-based line number. */
  line: number;
  text: string;
}

export function contentLines(text: string): ContentLine[] {
  const out: ContentLine[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const hash = raw.indexOf('#');
    const t = (hash >= 0 ? raw.slice(0, hash) : raw).trim();
    if (t !== '') out.push({ line: i + 1, text: t });
  });
  return out;
}
