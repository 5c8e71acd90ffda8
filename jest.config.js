/** Two projects: fast unit tests (no server) and integration tests next to one real Temporal dev server. */
const transform = { '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2023', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }] };
// ml-kmeans and its dependencies (ml-*, is-any-array) ship ESM only: let swc compile them to CommonJS for jest.
const transformIgnorePatterns = ['/node_modules/(?!(ml-[^/]+|is-any-array)/)'];
const common = { transform, transformIgnorePatterns, testEnvironment: 'node', moduleFileExtensions: ['ts', 'js', 'json'] };

const SLOW = ['<rootDir>/tests/integration/efficacy.test.ts'];

module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/tests/unit/**/*.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/tests/integration/**/*.test.ts'],
      testPathIgnorePatterns: SLOW,
      globalSetup: '<rootDir>/tests/helpers/global-setup.ts',
      globalTeardown: '<rootDir>/tests/helpers/global-teardown.ts',
    },
    // Whole lifecycles (minutes each on 2 cores): their own make target, out of make test's 15-minute budget.
    {
      ...common,
      displayName: 'slow',
      testMatch: SLOW,
      globalSetup: '<rootDir>/tests/helpers/global-setup.ts',
      globalTeardown: '<rootDir>/tests/helpers/global-teardown.ts',
    },
  ],
};
