// The stock `postgraphile` command's configuration (it reads this file from the folder it runs
// in): the app's schema and the role its requests run as (api.mjs), with none of its per-request
// identity. DATABASE_URL and API_ROLE as for server.mjs (config.mjs); `-c` overrides the first.
import { schemaPreset } from './api.mjs';
import { loadConfig } from './config.mjs';

export default schemaPreset(loadConfig());
