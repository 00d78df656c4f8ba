// @ts-check
/**
 * Dependency rules between apps and libraries, checked on resolved files (path aliases and
 * relative paths alike, type-only imports included) by `npm run lint`. See docs/architecture.md.
 */
const CORE = require('./libs/core-libs.json').join('|');

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'lib-deep-import',
      comment:
        'A library reaches another library only through its barrel: import @girder/<lib> (libs/<lib>/src/index.ts), never its files.',
      severity: 'error',
      from: { path: '^libs/([^/]+)/' },
      to: { path: '^libs/[^/]+/', pathNot: ['^libs/$1/', '^libs/[^/]+/src/index\\.ts$'] },
    },
    {
      name: 'root-deep-import',
      comment:
        'Apps, tests and ormconfig.ts use libraries through their barrels: import @girder/<lib>, never libs/<lib>/src/<file>.',
      severity: 'error',
      from: { path: '^(apps|test|bench|ormconfig\\.ts)' },
      to: { path: '^libs/[^/]+/', pathNot: '^libs/[^/]+/src/index\\.ts$' },
    },
    {
      name: 'core-imports-feature',
      comment:
        'Core libraries (libs/core-libs.json) never import feature libraries: move the dependency into the feature.',
      severity: 'error',
      from: { path: `^libs/(${CORE})/` },
      to: { path: '^libs/', pathNot: `^libs/(${CORE})/` },
    },
    {
      name: 'lib-imports-composition-root',
      comment:
        'Only apps (and ormconfig.ts) compose libraries: a library never imports from apps/, test/, bench/ or ormconfig.ts.',
      severity: 'error',
      // Unit specs beside the code may use the unit-test support in test/unit/.
      from: { path: '^libs/', pathNot: '\\.spec\\.ts$' },
      to: { path: '^(apps|test|bench)/|^ormconfig\\.ts$' },
    },
    {
      name: 'spec-imports-outside-unit-support',
      comment:
        'A unit spec in libs/ reaches test/ only for test/unit/ (mocks), never apps or e2e support.',
      severity: 'error',
      from: { path: '^libs/.+\\.spec\\.ts$' },
      to: { path: '^(apps|bench)/|^test/(?!unit/)|^ormconfig\\.ts$' },
    },
    {
      name: 'app-imports-app',
      comment:
        'The API and the worker are separate roots over the same libraries; share code through a library.',
      severity: 'error',
      from: { path: '^apps/([^/]+)/' },
      to: { path: '^apps/', pathNot: '^apps/$1/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|coverage|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },
};
