/**
 * Where a YAML syntax error really is. The `yaml` parser notices an unclosed `[` or `{` only
 * where the text stops fitting (the next key, often the next line), and reports it there; a
 * person looks for the bracket. This finds the brackets that never close, so the error points
 * at the one that opened.
 *
 * @module
 * @private
 */
import { CST, Parser } from 'yaml';

/** A `[` or `{` with no matching closer. */
export interface UnclosedBracket {
  /** Offset of the bracket in the text. */
  readonly offset: number;
  readonly open: '[' | '{';
  readonly close: ']' | '}';
}

/**
 * The flow collections of `text` that are never closed, in source order.
 *
 * @example
 * ```ts
 * unclosedBrackets('a: [1, 2\nb: 3\n'); // [{ offset: 3, open: '[', close: ']' }]
 * ```
 */
export function unclosedBrackets(text: string): UnclosedBracket[] {
  const found: UnclosedBracket[] = [];
  for (const token of new Parser().parse(text)) {
    if (token.type !== 'document') continue;
    CST.visit(token, (item) => {
      const value = item.value;
      if (value?.type !== 'flow-collection') return;
      const seq = value.start.type === 'flow-seq-start';
      const closer = seq ? 'flow-seq-end' : 'flow-map-end';
      if (!value.end.some((t) => t.type === closer))
        found.push({ offset: value.start.offset, open: seq ? '[' : '{', close: seq ? ']' : '}' });
    });
  }
  return found.sort((a, b) => a.offset - b.offset);
}

/**
 * The unclosed bracket an error at `errorOffset` is most likely about: the last one opened
 * before it. Undefined when no bracket opened before the error is left open.
 */
export function bracketBefore(brackets: readonly UnclosedBracket[], errorOffset: number): UnclosedBracket | undefined {
  let last: UnclosedBracket | undefined;
  for (const b of brackets) if (b.offset <= errorOffset) last = b;
  return last;
}
