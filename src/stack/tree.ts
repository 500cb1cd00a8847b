/**
 * Turns a `yaml` document into a small positioned tree (maps, lists, scalars),
 * resolving aliases and `<<` merge keys, so every later check can report the
 * line and column of the value it rejects.
 *
 * @module
 */
import { Alias, isAlias, isMap, isPair, isScalar, isSeq, LineCounter } from 'yaml';
import type { Document, Node as YamlNode } from 'yaml';
import { MAX_YAML_DEPTH, MAX_YAML_NODES } from './limits.js';
import { bracketBefore, unclosedBrackets } from './yaml-errors.js';
import { readYaml } from './yaml-read.js';

/** 1-based position in the source text. */
export interface Pos {
  readonly line: number;
  readonly column: number;
}

/** A scalar with its YAML type (string, number, boolean or null). */
export interface PScalar {
  readonly kind: 'scalar';
  readonly value: string | number | boolean | null;
  readonly pos: Pos;
  /** Variables interpolation found unset and replaced with "" (so a check can name them). */
  readonly unset?: readonly string[];
}

/** One key of a mapping, with where the key itself is. */
export interface PEntry {
  readonly key: string;
  readonly keyPos: Pos;
  readonly value: PNode;
}

/** A mapping, keys in source order (merged keys after explicit ones). */
export interface PMap {
  readonly kind: 'map';
  readonly entries: ReadonlyMap<string, PEntry>;
  readonly pos: Pos;
}

/** A list. */
export interface PSeq {
  readonly kind: 'seq';
  readonly items: readonly PNode[];
  readonly pos: Pos;
}

/** A node of the positioned tree. */
export type PNode = PScalar | PMap | PSeq;

/** A problem found while reading the YAML itself. */
export interface TreeProblem {
  readonly pos: Pos;
  readonly message: string;
}

/** Result of {@link parseYamlTree}: the root (if any) and every YAML-level problem. */
export interface TreeResult {
  readonly root: PNode | undefined;
  readonly problems: TreeProblem[];
}

// Bounds alias expansion so a "billion laughs" file fails instead of eating memory.
const MAX_NODES = MAX_YAML_NODES;
const MAX_DEPTH = MAX_YAML_DEPTH;

/**
 * Parses YAML text into a positioned tree. Syntax errors, duplicate keys, bad merge keys and a
 * file past the bounds of `limits.ts` come back as problems, never as exceptions.
 */
export function parseYamlTree(text: string): TreeResult {
  const lc = new LineCounter();
  const problems: TreeProblem[] = [];
  const read = readYaml(text, lc);
  const posOf = (offset: number | undefined): Pos => {
    if (offset === undefined) return { line: 0, column: 0 };
    const p = lc.linePos(offset);
    return { line: p.line, column: p.col };
  };
  if (read.limit !== undefined)
    return { root: undefined, problems: [{ pos: posOf(read.limit.offset), message: read.limit.message }] };
  const doc = read.doc;
  const brackets = doc.errors.length > 0 ? unclosedBrackets(text) : [];
  const reported = new Set<number>();
  for (const e of doc.errors) {
    const bracket = e.code === 'MULTIPLE_DOCS' ? undefined : bracketBefore(brackets, e.pos[0]);
    if (bracket !== undefined) {
      // One report per bracket, where it opens: yaml notices it lines later.
      if (reported.has(bracket.offset)) continue;
      reported.add(bracket.offset);
      const message = `invalid YAML: this "${bracket.open}" is never closed: add "${bracket.close}" where the ${bracket.open === '[' ? 'list' : 'mapping'} ends`;
      problems.push({ pos: posOf(bracket.offset), message });
      continue;
    }
    const message =
      e.code === 'MULTIPLE_DOCS'
        ? 'a stack file holds one YAML document: remove the "---" separator or split the file'
        : `invalid YAML: ${firstLine(e.message)}`;
    problems.push({ pos: posOf(e.pos[0]), message });
  }
  if (doc.errors.length > 0) return { root: undefined, problems };
  const builder = new Builder(doc, posOf, problems);
  const root = doc.contents === null ? undefined : builder.build(doc.contents as YamlNode, 0);
  return { root, problems };
}

function firstLine(s: string): string {
  const i = s.indexOf(' at line ');
  const head = i >= 0 ? s.slice(0, i) : s.split('\n')[0]!;
  return head.trim();
}

class Builder {
  #count = 0;
  #tooBig = false;
  // Anchored nodes are built once and shared by every alias to them; their
  // expanded size still counts against MAX_NODES at each use.
  readonly #built = new Map<YamlNode, { node: PNode; size: number }>();
  readonly #targets = new Map<Alias, YamlNode | undefined>();
  readonly #active = new Set<YamlNode>();

  constructor(
    readonly doc: Document,
    readonly posOf: (offset: number | undefined) => Pos,
    readonly problems: TreeProblem[],
  ) {}

  build(node: YamlNode | null | undefined, depth: number, fallback: Pos = { line: 0, column: 0 }): PNode {
    if (node === null || node === undefined) return { kind: 'scalar', value: null, pos: fallback };
    const pos = node.range ? this.posOf(node.range[0]) : fallback;
    if (isAlias(node)) return this.#alias(node as Alias, depth, pos);
    if (this.#count + 1 > MAX_NODES || depth > MAX_DEPTH) return this.#overflow(pos);
    const cached = this.#built.get(node);
    if (cached) return this.#reuse(cached, pos);
    const before = this.#count++;
    this.#active.add(node);
    const out = this.#buildNode(node, depth, pos);
    this.#active.delete(node);
    if ((node as { anchor?: string }).anchor) this.#built.set(node, { node: out, size: this.#count - before });
    return out;
  }

  #alias(alias: Alias, depth: number, pos: Pos): PNode {
    if (!this.#targets.has(alias)) this.#targets.set(alias, alias.resolve(this.doc) as YamlNode | undefined);
    const target = this.#targets.get(alias);
    if (target === undefined) {
      this.problems.push({ pos, message: `unknown alias *${alias.source}` });
      return { kind: 'scalar', value: null, pos };
    }
    if (this.#active.has(target)) {
      this.problems.push({
        pos,
        message: `alias *${alias.source} refers to a node that contains it; an anchor cannot include itself`,
      });
      return { kind: 'scalar', value: null, pos };
    }
    return this.build(target, depth + 1, pos);
  }

  #reuse(cached: { node: PNode; size: number }, pos: Pos): PNode {
    if (this.#count + cached.size > MAX_NODES) return this.#overflow(pos);
    this.#count += cached.size;
    return cached.node;
  }

  #overflow(pos: Pos): PNode {
    if (!this.#tooBig)
      this.problems.push({ pos, message: 'document too large or too deeply nested after expanding aliases' });
    this.#tooBig = true;
    return { kind: 'scalar', value: null, pos };
  }

  #buildNode(node: YamlNode, depth: number, pos: Pos): PNode {
    if (isScalar(node)) {
      const v = node.value;
      if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
        return { kind: 'scalar', value: v, pos };
      }
      // Dates, binary and the like: keep their source text.
      return { kind: 'scalar', value: node.source ?? String(v), pos };
    }
    if (isSeq(node)) {
      return { kind: 'seq', items: node.items.map((it) => this.build(it as YamlNode, depth + 1, pos)), pos };
    }
    if (isMap(node)) return this.buildMap(node.items, pos, depth);
    return { kind: 'scalar', value: null, pos };
  }

  buildMap(pairs: readonly unknown[], pos: Pos, depth: number): PMap {
    const entries = new Map<string, PEntry>();
    const merges: PNode[] = [];
    for (const pair of pairs) {
      if (!isPair(pair)) continue;
      const keyNode = pair.key as YamlNode | null;
      const keyPos = keyNode?.range ? this.posOf(keyNode.range[0]) : pos;
      if (isScalar(keyNode) && keyNode.value === '<<' && keyNode.type === 'PLAIN') {
        merges.push(this.build(pair.value as YamlNode, depth + 1, keyPos));
        continue;
      }
      if (!isScalar(keyNode) || (keyNode.value !== null && typeof keyNode.value === 'object')) {
        this.problems.push({ pos: keyPos, message: 'mapping keys must be plain strings or numbers' });
        continue;
      }
      const key = keyNode.value === null ? '' : String(keyNode.value);
      entries.set(key, { key, keyPos, value: this.build(pair.value as YamlNode, depth + 1, keyPos) });
    }
    // YAML merge keys: explicit keys win; among merged maps, earlier ones win.
    for (const m of merges) {
      const sources = m.kind === 'seq' ? m.items : [m];
      for (const s of sources) {
        if (s.kind !== 'map') {
          this.problems.push({
            pos: s.pos,
            message: 'merge key << expects a mapping or a list of mappings (for example <<: *defaults)',
          });
          continue;
        }
        for (const [k, e] of s.entries) if (!entries.has(k)) entries.set(k, e);
      }
    }
    return { kind: 'map', entries, pos };
  }
}
