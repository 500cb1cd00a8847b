/**
 * Reads YAML text into a `yaml` Document within the bounds of `limits.ts`. `parseDocument` does
 * the same in one call, but it cannot be stopped: a 4 MiB file of tiny values, or brackets
 * nested 100,000 deep (its composer recurses until the stack overflows), costs seconds before
 * anything can be checked. Here the lexer's tokens go through the parser one at a time, and the
 * first token past a bound stops the read with the line where that happened.
 *
 * Duplicate keys are found here too, with one hash set per mapping: `yaml`'s own `uniqueKeys`
 * compares each key with every earlier one, which is quadratic (20,000 `environment` entries
 * took 11 s). The error is the one `yaml` gives, so messages do not change.
 *
 * @module
 * @private
 */
import { Composer, CST, isMap, isScalar, Lexer, LineCounter, Parser, visit, YAMLParseError } from 'yaml';
import type { Document } from 'yaml';
import { MAX_YAML_DEPTH, MAX_YAML_TOKENS } from './limits.js';

/** A bound crossed while reading: where (offset in the text) and what. */
export interface YamlLimit {
  readonly offset: number;
  readonly message: string;
}

/** Result of {@link readYaml}: the document, or the first bound the text crosses. */
export type YamlReadResult = { readonly doc: Document; readonly limit?: never } | { readonly limit: YamlLimit };

const VALUE_TOKENS = new Set([
  'scalar',
  'single-quoted-scalar',
  'double-quoted-scalar',
  'block-scalar-header',
  'alias',
]);

class LimitExceeded extends Error {
  constructor(readonly limit: YamlLimit) {
    super(limit.message);
  }
}

/**
 * Parses one YAML document like `parseDocument(text, { merge: false, uniqueKeys: true })`, but
 * stops at the first token that nests deeper than `MAX_YAML_DEPTH` or is value number
 * `MAX_YAML_TOKENS + 1`. Line positions go to `lineCounter`.
 *
 * @example
 * ```ts
 * const lc = new LineCounter();
 * readYaml('a: ' + '['.repeat(1000), lc).limit?.message; // 'nested more than 64 levels deep: …'
 * ```
 */
export function readYaml(text: string, lineCounter: LineCounter): YamlReadResult {
  const parser = new Parser(lineCounter.addNewLine);
  lineCounter.addNewLine(0); // as Parser.parse() does: line 1 starts at offset 0
  const composer = new Composer({ merge: false, uniqueKeys: false, prettyErrors: false });
  let doc: Document | undefined;
  try {
    for (const d of composer.compose(boundedTokens(parser, text), true, text.length)) {
      if (doc === undefined) doc = d;
      else {
        const code = 'MULTIPLE_DOCS';
        doc.errors.push(new YAMLParseError(d.range.slice(0, 2) as [number, number], code, 'multiple documents'));
        break;
      }
    }
  } catch (e) {
    if (e instanceof LimitExceeded) return { limit: e.limit };
    throw e;
  }
  // compose(…, true) always ends with a document, empty at worst.
  const found = doc!;
  found.errors.push(...duplicateKeys(found));
  found.errors.sort((a, b) => a.pos[0] - b.pos[0]);
  return { doc: found };
}

function* boundedTokens(parser: Parser, text: string): Generator<CST.Token, void> {
  let values = 0;
  for (const lexeme of new Lexer().lex(text)) {
    if (VALUE_TOKENS.has(CST.tokenType(lexeme) ?? '') && ++values > MAX_YAML_TOKENS)
      throw new LimitExceeded({
        offset: parser.offset,
        message: `the file holds more than ${MAX_YAML_TOKENS} YAML values: split it into several stacks`,
      });
    yield* parser.next(lexeme);
    // The parser's stack holds the document and every open collection (and the scalar in hand).
    if (parser.stack.length > MAX_YAML_DEPTH)
      throw new LimitExceeded({
        offset: parser.offset,
        message: `mappings and lists are nested more than ${MAX_YAML_DEPTH} levels deep here: flatten the file`,
      });
  }
  yield* parser.end();
}

/** `yaml`'s DUPLICATE_KEY errors, found in linear time: scalar keys equal by value. */
function duplicateKeys(doc: Document): YAMLParseError[] {
  const errors: YAMLParseError[] = [];
  visit(doc, {
    Map(_, map) {
      if (!isMap(map)) return;
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue; // collections as keys are only equal to themselves
        if (!seen.has(pair.key.value)) {
          seen.add(pair.key.value);
          continue;
        }
        const at = pair.key.range?.[0] ?? 0;
        errors.push(new YAMLParseError([at, at + 1], 'DUPLICATE_KEY', 'Map keys must be unique'));
      }
    },
  });
  return errors;
}
