// The example app's API (examples/task-app/api.mjs, PostGraphile 4) ported to PostGraphile 5
// (Grafast), for bench/http's targets (i), (j) and (k). The app keeps PostGraphile 4: this port
// measured slower for its requests (bench/http/results.md, "PostGraphile 5 against 4"). It
// keeps the app's schema and names (the V4 preset), its per-request identity (pgSettings with
// role and request.headers in every transaction, pre_request() first in each, 401 with
// WWW-Authenticate for a refused token) and its errors' SQLSTATE (as extensions.errcode).
import { postgraphile } from 'postgraphile';
import { makePgService } from 'postgraphile/adaptors/pg';
import { grafserv } from 'postgraphile/grafserv/node';
import { GraphQLError } from 'postgraphile/graphql';
import { makeV4Preset } from 'postgraphile/presets/v4';

// The schema, and each request's settings (a stock `postgraphile` command could serve it from a
// graphile.config.mjs). PostGraphile 4's names and options through PostGraphile 5's V4 preset.
export function schemaPreset(config) {
  return {
    // Expose only what the API role is granted (no hashed_password, no key tables).
    extends: [makeV4Preset({ ignoreRBAC: false, graphqlRoute: '/graphql', graphiql: false })],
    // taskauth's tables and functions belong to an extension, which PostGraphile skips otherwise
    // (and withExtensionIntrospected, below).
    disablePlugins: ['PgRemoveExtensionResourcesPlugin'],
    pgServices: [withExtensionIntrospected('taskauth', makePgService({
      connectionString: config.databaseUrl,
      schemas: ['taskauth'],
      // what the API role may use: introspected as that role (the login role has no rights)
      pgSettingsForIntrospection: { role: config.apiRole },
    }))],
    grafast: { context: (ctx) => ({ pgSettings: pgSettings(config.apiRole, ctx.node?.req) }) },
  };
}

// PostGraphile 5 leaves out the tables and functions that belong to an extension, and unlike 4
// (includeExtensionResources) it has no option to keep them: its introspection drops every object
// that pg_depend records as an extension's member, before any plugin sees it. The service's
// introspection (the one query run with pgSettingsForIntrospection) therefore reads the catalog
// with extension extname's membership rows taken out, so that its tables and functions are
// introspected like the database's own; the API role's grants still decide what is shown.
// Every other query goes through unchanged.
function withExtensionIntrospected(extname, service) {
  const { adaptor, pgSettingsForIntrospection } = service;
  const keepMembers = (row) => {
    const catalog = JSON.parse(row.introspection);
    const ext = catalog.extensions.find((e) => e.extname === extname);
    catalog.depends = catalog.depends.filter((d) => !(d.deptype === 'e' && d.refobjid === ext?._id));
    return { ...row, introspection: JSON.stringify(catalog) };
  };
  const createWithPgClient = async (...args) => {
    const withPgClient = await adaptor.createWithPgClient(...args);
    const wrapped = (settings, callback) => (settings !== pgSettingsForIntrospection
      ? withPgClient(settings, callback)
      : withPgClient(settings, (client) => callback({
        ...client,
        query: async (q) => {
          const result = await client.query(q);
          return { ...result, rows: result.rows.map(keepMembers) };
        },
      })));
    return Object.assign(wrapped, { release: withPgClient.release });
  };
  return { ...service, adaptor: { ...adaptor, createWithPgClient } };
}

// The request's settings, which PostGraphile sets (set_config, transaction-local) first in every
// transaction it runs for the request: the role it runs as, and its Authorization header in the
// shape PostgREST uses (JSON, names lower-cased), where taskauth reads the bearer token.
export function pgSettings(apiRole, req) {
  return {
    role: apiRole,
    'request.headers': JSON.stringify({ authorization: req?.headers.authorization ?? '' }),
  };
}

// ---- The hook statement. Once taskauth verifies the token of request.headers by itself (lazy
// identity), remove this block and its call in requestContext: schemaPreset's pgSettings are all
// a request then needs, and a token taskauth refuses still ends in the 401 below.
// Runs `select taskauth.pre_request()` first in every transaction of the request (after
// PostGraphile's set_config of pgSettings, before the request's own statements).
function withPreRequest(withPgClient) {
  return (settings, callback) =>
    withPgClient(settings, async (client) => {
      await client.query({ text: 'select taskauth.pre_request()' });
      return callback(client);
    });
}
// ---- end of the hook statement

// Each request's GraphQL context: schemaPreset's settings, and its transactions, in which a token
// that taskauth refuses (SQLSTATE PGRST, whichever statement verified it) is noted on the request
// for the 401 below.
function requestContext(apiRole) {
  return (ctx, args) => {
    const req = ctx.node?.req;
    const withPgClient = withPreRequest(args.contextValue.withPgClient);
    return {
      pgSettings: pgSettings(apiRole, req),
      async withPgClient(settings, callback) {
        try {
          return await withPgClient(settings, callback);
        } catch (e) {
          if (e.code === 'PGRST' && req) req[REFUSED] ??= tokenRefused(e);
          throw e;
        }
      },
    };
  };
}

// taskauth refuses a bad token with SQLSTATE PGRST, a JSON message
// {"code":"PGRST301","message":"jwt expired"} and a JSON detail {"status":401,"headers":{...}}.
const REFUSED = Symbol('taskauth token refused');
function tokenRefused(e) {
  const { code, message } = JSON.parse(e.message);
  const { status, headers } = JSON.parse(e.detail);
  return { status, code, message, headers };
}

// A request whose token taskauth refused gets the refusal's status and headers (401 and
// WWW-Authenticate) and its reason, whatever else the operation did.
const TokenRefusal = {
  name: 'TaskAppTokenRefusal',
  version: '1.0.0',
  grafserv: {
    middleware: {
      async processRequest(next, event) {
        const result = await next();
        const refused = event.requestDigest.requestContext?.node?.req?.[REFUSED];
        if (!refused) return result;
        const buffer = Buffer.from(JSON.stringify({
          errors: [{ message: refused.message, extensions: { code: refused.code } }],
        }));
        const headers = { 'content-type': 'application/json; charset=utf-8', 'content-length': String(buffer.length) };
        for (const [name, value] of Object.entries(refused.headers)) headers[name.toLowerCase()] = value;
        return { type: 'buffer', statusCode: refused.status, headers, buffer };
      },
    },
  },
};

// Errors from the database carry their SQLSTATE as extensions.errcode, so a client tells a
// refusal (42501) from a bad value (23514).
function maskError(error) {
  const code = error.originalError?.code;
  if (typeof code !== 'string' || typeof error.originalError.severity !== 'string') return error;
  return new GraphQLError(error.message, {
    nodes: error.nodes, source: error.source, positions: error.positions, path: error.path,
    originalError: error.originalError, extensions: { ...error.extensions, errcode: code },
  });
}

// The /graphql request handler (a Node http handler), with .ready (resolves once the schema is
// built; rejects if the database is wrong) and .release() (closes its pool).
export function createApi(config) {
  const pgl = postgraphile({
    extends: [schemaPreset(config)],
    plugins: [TokenRefusal],
    grafast: { context: requestContext(config.apiRole) },
    grafserv: { maskError },
  });
  const handler = pgl.createServ(grafserv).createHandler();
  return Object.assign((req, res) => handler(req, res), {
    ready: pgl.getSchema(),
    release: () => pgl.release(),
  });
}
