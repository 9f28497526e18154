import { Schema } from '../../src/emulator/schema/index.js';
import { seedStore } from '../../src/emulator/seed/seed.js';
import { Store } from '../../src/emulator/store/store.js';

/** An emulator store seeded in-process (no server), for tests of the emulator's own code over its data. */
export function seededStore(opts: { seed: number; scale: number; anchor: Date }): { schema: Schema; store: Store } {
  const schema = new Schema();
  const store = new Store(schema.entities);
  seedStore(store, schema, {
    ...opts,
    users: [
      {
        systemuserid: '11111111-1111-1111-1111-111111111111',
        firstname: 'Test',
        lastname: 'Admin',
        email: 'admin@contoso.example',
        objectId: '22222222-2222-2222-2222-222222222222',
      },
    ],
  });
  return { schema, store };
}
