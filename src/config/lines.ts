import { ConfigError } from './errors.ts';

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

/** How an mTCP list file (arp.conf, route.conf) is headed and what its lines are, for its error messages. */
export interface CountedListForm {
  /** The header's keyword: `ARP_ENTRY`, `ROUTES`. */
  keyword: string;
  /** The header as an error names it when it is missing: 'an `ARP_ENTRY n` header'. */
  header: string;
  /** What the lines are, plural: 'entries', 'routes'. */
  items: string;
  /** One line's form: '`ip/prefix mac`'. */
  lineForm: string;
}

/**
 * The lines of an mTCP list file after its header `KEYWORD n`: exactly n of them. An empty file, a bad
 * header or another count is a ConfigError naming the line (the first extra line when there are too many).
 */
export function countedLines(text: string, file: string, form: CountedListForm): ContentLine[] {
  const lines = contentLines(text);
  if (lines.length === 0) throw new ConfigError(file, 0, 'the file is empty', form.header);
  const [first, ...rest] = lines;
  const m = new RegExp(`^${form.keyword}\\s+(\\d+)$`).exec(first.text);
  if (!m) throw new ConfigError(file, first.line, `bad header \`${first.text}\``, `\`${form.keyword} n\``);
  const n = Number(m[1]);
  if (rest.length !== n) {
    const line = rest.length > n ? rest[n].line : (rest.at(-1)?.line ?? first.line);
    throw new ConfigError(file, line, `${form.keyword} says ${n} ${form.items} but ${rest.length} follow`, `exactly ${n} ${form.lineForm} lines`);
  }
  return rest;
}
