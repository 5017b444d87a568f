import { expect } from 'chai';
import { ESLint } from 'eslint';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import tseslint from 'typescript-eslint';

const root = resolve(import.meta.dirname, '..');
const dir = join(root, 'examples/readme');

/** The TypeScript and JavaScript code blocks of the README and of the docs it sends readers to, as written. */
const blocks = ['README.md', 'docs/redis.md'].flatMap((file) =>
  [...readFileSync(join(root, file), 'utf8').matchAll(/^```(?:ts|js)\n([\s\S]*?)^```$/gm)].map((m) => m[1]!.trimEnd()),
);

/** The part of each examples/readme file between `// #region README` and `// #endregion`. */
const regions = readdirSync(dir).map((file) => {
  const text = readFileSync(join(dir, file), 'utf8');
  const region = /^\/\/ #region README\n([\s\S]*?)^\/\/ #endregion$/m.exec(text);
  return { file, code: region?.[1]!.trimEnd() };
});

describe('README examples', () => {
  it('every README code block is, word for word, an example under examples/readme that runs', () => {
    expect(blocks).to.have.length.above(5);
    const missing = blocks.filter((block) => !regions.some((r) => r.code === block));
    expect(missing).to.deep.equal([]);
  });

  it('every example under examples/readme is a README code block', () => {
    const stale = regions.filter((r) => r.code === undefined || !blocks.includes(r.code)).map((r) => r.file);
    expect(stale).to.deep.equal([]);
  });

  it("typescript-eslint's recommendedTypeChecked finds nothing in the README examples (set and clear passed unbound)", async function () {
    this.timeout(60_000);
    const eslint = new ESLint({
      cwd: root,
      overrideConfigFile: true,
      overrideConfig: [
        ...tseslint.configs.recommendedTypeChecked,
        { languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: root } } },
      ],
    });
    const results = await eslint.lintFiles(['examples/readme/*.ts']);
    const problems = results.flatMap((r) =>
      r.messages.map((m) => `${relative(root, r.filePath)}:${m.line} ${m.ruleId}: ${m.message}`),
    );
    expect(results).to.have.length.above(4);
    expect(problems).to.deep.equal([]);
  });
});
