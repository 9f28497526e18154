import { afterAll, expect } from 'vitest';
import { findLeaks } from '../helpers/secrets-watch.js';

// Runs after every test file: the client secrets, certificate keys and bearer tokens the tests used must not
// appear in any captured log line or tool output.
afterAll(() => {
  expect(findLeaks()).toEqual([]);
});
