// The API: PostGraphile 4 over schema taskauth. PostGraphile gets no JWT secret; each request's
// token goes to taskauth.pre_request() inside the request's transaction, and row-level security
// decides what the request sees.
import { postgraphile, makePluginHook, extendedFormatError } from 'postgraphile';

// ---- The hook statement, in this one place. Once the app relies on taskauth's lazy identity
// (taskauth verifies the bearer token of request.headers, which pgSettings sets, on first use),
// drop taskauthHook from createApi's pluginHook; a token refused on that path surfaces as a
// GraphQL error of the operation, which handleErrors must then turn into the 401 itself.
// Runs inside each request's transaction, after pgSettings, before the GraphQL operation.
export const taskauthHook = {
  withPostGraphileContext(withContext) {
    return (options, callback) =>
      withContext(options, async (context) => {
        try {
          await context.pgClient.query('select taskauth.pre_request()');
        } catch (e) {
          throw e.code === 'PGRST' ? tokenRefused(e) : e;
        }
        return callback(context);
      });
  },
};

// pre_request() refuses a bad token with SQLSTATE PGRST, a JSON message
// {"code":"PGRST301","message":"jwt expired"} and a JSON detail {"status":401,"headers":{...}}.
function tokenRefused(e) {
  const { code, message } = JSON.parse(e.message);
  const { status, headers } = JSON.parse(e.detail);
  return Object.assign(new Error(message), { statusCode: status, code, headers });
}

// Formats errors for the response; a refused token's error also sets its HTTP headers.
function handleErrors(errors, req, res) {
  return errors.map((error) => {
    if (error.headers) {
      for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
      return { message: error.message, extensions: { code: error.code } };
    }
    // errcode: the SQLSTATE, so a client tells a refusal (42501) from a bad value (23514)
    return extendedFormatError(error, ['errcode']);
  });
}

// The request's settings: the role it runs as, and its Authorization header in the shape
// PostgREST uses, where pre_request() reads it.
export function pgSettings(apiRole) {
  return (req) => ({
    role: apiRole,
    'request.headers': JSON.stringify({ authorization: req.headers.authorization ?? '' }),
  });
}

// The /graphql request handler (a Node http handler); .release() closes its pool.
export function createApi(config) {
  return postgraphile(config.databaseUrl, 'taskauth', {
    pluginHook: makePluginHook([taskauthHook]),
    pgSettings: pgSettings(config.apiRole),
    // taskauth's tables and functions belong to an extension, which PostGraphile skips otherwise.
    includeExtensionResources: true,
    // Expose only what the API role is granted (no hashed_password, no key tables).
    ignoreRBAC: false,
    handleErrors,
    graphqlRoute: '/graphql',
    graphiql: false,
    disableQueryLog: true,
    retryOnInitFail: false,
  });
}
