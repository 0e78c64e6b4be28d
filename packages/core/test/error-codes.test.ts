// Keeps the error codes in sync three ways: the MESHLESS_ERROR_CODES list, the code that throws
// them (every package's sources), and docs/errors.md.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { MESHLESS_ERROR_CODES } from '../src/errors.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const packagesDir = join(root, 'packages');
const errorsFile = join(packagesDir, 'core', 'src', 'errors.ts');
const docsFile = join(root, 'docs', 'errors.md');
const CODE = /^ERR_MESHLESS_[A-Z0-9_]+$/;

function sourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...sourceFiles(path));
    else if (entry.isFile() && entry.name.endsWith('.ts')) files.push(path);
  }
  return files;
}

function packageSources(): string[] {
  return readdirSync(packagesDir)
    .map((name) => join(packagesDir, name, 'src'))
    .filter((dir) => statSync(dir, { throwIfNoEntry: false })?.isDirectory())
    .flatMap(sourceFiles);
}

/**
 * Each `'ERR_MESHLESS_…'` string literal in the sources (read with the TypeScript parser, so that
 * mentions in comments do not count as uses) and the files it appears in.
 */
function literalsBySource(): Map<string, Set<string>> {
  const found = new Map<string, Set<string>>();
  for (const file of packageSources()) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
    const visit = (node: ts.Node): void => {
      if ((ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) && CODE.test(node.text)) {
        const files = found.get(node.text) ?? new Set<string>();
        files.add(relative(root, file));
        found.set(node.text, files);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}

/** Every `ERR_MESHLESS_…` token anywhere in the sources, comments included, and where it is. */
function mentionsBySource(): Map<string, Set<string>> {
  const found = new Map<string, Set<string>>();
  for (const file of packageSources()) {
    for (const match of readFileSync(file, 'utf8').matchAll(/\bERR_MESHLESS_[A-Z0-9_]*[A-Z0-9]\b/g)) {
      const files = found.get(match[0]) ?? new Set<string>();
      files.add(relative(root, file));
      found.set(match[0], files);
    }
  }
  return found;
}

/** The `## ERR_MESHLESS_…` sections of docs/errors.md, each with its body. */
function documentedSections(): Map<string, string> {
  const text = readFileSync(docsFile, 'utf8');
  const sections = new Map<string, string>();
  const parts = text.split(/^## /m).slice(1);
  for (const part of parts) {
    const newline = part.indexOf('\n');
    const heading = (newline === -1 ? part : part.slice(0, newline)).trim();
    if (!heading.startsWith('ERR_MESHLESS_')) continue;
    if (sections.has(heading)) throw new Error(`docs/errors.md has two sections for ${heading}`);
    sections.set(heading, newline === -1 ? '' : part.slice(newline + 1));
  }
  return sections;
}

const listed = new Set<string>(MESHLESS_ERROR_CODES);

describe('MESHLESS_ERROR_CODES', () => {
  it('has no duplicates and only well-formed codes', () => {
    expect(listed.size).toBe(MESHLESS_ERROR_CODES.length);
    for (const code of MESHLESS_ERROR_CODES) expect(code).toMatch(/^ERR_MESHLESS_[A-Z0-9]+(_[A-Z0-9]+)*$/);
  });

  it('holds every ERR_MESHLESS_* string literal used in packages/*/src', () => {
    const unlisted = [...literalsBySource()]
      .filter(([code]) => !listed.has(code))
      .map(([code, files]) => `${code} (in ${[...files].join(', ')})`);
    expect(unlisted, 'codes used in sources but missing from MESHLESS_ERROR_CODES').toEqual([]);
  });

  it('holds every ERR_MESHLESS_* code mentioned in comments of packages/*/src', () => {
    const unlisted = [...mentionsBySource()]
      .filter(([code]) => !listed.has(code))
      .map(([code, files]) => `${code} (in ${[...files].join(', ')})`);
    expect(unlisted, 'codes mentioned in sources but missing from MESHLESS_ERROR_CODES').toEqual([]);
  });

  it('holds no code that no source outside errors.ts uses', () => {
    const errorsPath = relative(root, errorsFile);
    const used = literalsBySource();
    const unused = MESHLESS_ERROR_CODES.filter((code) => {
      const files = used.get(code);
      return !files || [...files].every((file) => file === errorsPath);
    });
    expect(unused, 'codes in MESHLESS_ERROR_CODES that nothing throws or emits').toEqual([]);
  });
});

describe('docs/errors.md', () => {
  const sections = documentedSections();

  it('has a section for every code in MESHLESS_ERROR_CODES', () => {
    const undocumented = MESHLESS_ERROR_CODES.filter((code) => !sections.has(code));
    expect(undocumented, 'codes with no "## CODE" section in docs/errors.md').toEqual([]);
  });

  it('documents no code that is not in MESHLESS_ERROR_CODES', () => {
    const stale = [...sections.keys()].filter((code) => !listed.has(code));
    expect(stale, 'sections of docs/errors.md for codes that do not exist').toEqual([]);
  });

  it('gives every code a Meaning and a Fix', () => {
    const incomplete = [...sections]
      .filter(([, body]) => !/^\*\*Meaning:?\*\*:?\s*\S/m.test(body) || !/^\*\*Fix:?\*\*:?\s*\S/m.test(body))
      .map(([code]) => code);
    expect(incomplete, 'sections without a **Meaning** and a **Fix** paragraph').toEqual([]);
  });
});
