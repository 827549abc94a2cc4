import { InitialSchema1795431800153 } from './1795431800153-InitialSchema';

// Every migration, in order. Listed explicitly (not globbed) so the bundled server and the
// TypeORM CLI run exactly the same set. Append new ones; never edit one that has shipped.
export const allMigrations = [InitialSchema1795431800153];
