// The architecture as imports (docs/architecture.md): a layer imports only the layers below it,
// and nothing imports in a circle. `npm run lint:layers` checks it; CI runs it with the lint.

/** Each layer and the layers it may import (besides itself and node_modules). */
const LAYERS = {
  'stream/contracts': [],
  'stream/wfdb': ['stream/contracts'],
  'stream/dsp': ['stream/contracts'],
  'stream/alarms': ['stream/contracts', 'stream/dsp'],
  'stream/eval': ['stream/contracts', 'stream/wfdb', 'stream/dsp', 'stream/alarms'],
  'stream/model': ['stream/contracts', 'stream/wfdb', 'stream/dsp', 'stream/eval'],
  'stream/kafka': ['stream/contracts'],
  'stream/pipeline': ['stream/contracts', 'stream/dsp', 'stream/alarms', 'stream/model', 'stream/kafka'],
  simulators: ['stream/contracts', 'stream/wfdb', 'stream/dsp', 'stream/model', 'stream/kafka'],
  gateway: ['stream/contracts', 'stream/dsp', 'stream/kafka'],
  apps: ['stream', 'simulators', 'gateway', 'ui'],
  bench: ['stream', 'simulators', 'gateway', 'apps'],
};

const escapeRegExp = (path) => path.replace(/[/.]/g, (c) => `\\${c}`);

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Modules that import each other, directly or through others, cannot be understood or tested apart.',
      from: {},
      to: { circular: true },
    },
    ...Object.entries(LAYERS).map(([layer, below]) => ({
      name: `layer-${layer.replace(/\//g, '-')}`,
      severity: 'error',
      comment: `${layer} imports only ${below.length === 0 ? 'itself' : below.join(', ')}: no import runs back up.`,
      from: { path: `^${escapeRegExp(layer)}/` },
      to: {
        dependencyTypesNot: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'core'],
        pathNot: `^(${[layer, ...below].map(escapeRegExp).join('|')})/`,
      },
    })),
    {
      name: 'ui-imports-contract-types-only',
      severity: 'error',
      comment: 'The browser bundle takes the wire contracts as types: no server code reaches it.',
      from: { path: '^ui/' },
      to: { path: '^stream/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'ui-imports-contracts-only',
      severity: 'error',
      comment: 'Of the library, the browser bundle sees the contracts alone.',
      from: { path: '^ui/' },
      to: { path: '^(stream/(?!contracts/)|simulators|gateway|apps|bench)' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to nothing is a typo the type check would also catch.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|out|tests)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
