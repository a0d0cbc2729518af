// The API: PostGraphile 4 over schema taskauth. PostGraphile gets no JWT secret; each request's
// Authorization header goes into request.headers, where taskauth takes the token the first time
// the request asks for the identity (its lazy identity), and row-level security decides what the
// request sees. The app runs no statement of its own before the GraphQL operation.
import { postgraphile, makePluginHook, extendedFormatError } from 'postgraphile';

// taskauth refuses a bad token with SQLSTATE PGRST, a JSON message
// {"code":"PGRST301","message":"jwt expired"} and a JSON detail {"status":401,"headers":{...}}:
// the request is answered with that status and those headers, the body naming the reason.
function tokenRefused(error, res) {
  const { code, message } = JSON.parse(error.message);
  const { status, headers } = JSON.parse(error.detail);
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.statusCode = status;
  return { message, extensions: { code } };
}

// Formats errors for the response.
function handleErrors(errors, req, res) {
  return errors.map((error) => {
    const cause = error.originalError ?? error;
    if (cause.code === 'PGRST') return tokenRefused(cause, res);
    // errcode: the SQLSTATE, so a client tells a refusal (42501) from a bad value (23514)
    return extendedFormatError(error, ['errcode']);
  });
}

// A refused token refuses the whole request: its body is the error alone, without the data of
// fields that did not need the identity.
const refusedTokenPlugin = {
  'postgraphile:http:result'(result) {
    const refused = result.errors?.some((e) => e.extensions?.code === 'PGRST301');
    return refused ? { errors: result.errors, statusCode: result.statusCode } : result;
  },
};

// The request's settings: the role it runs as, and its Authorization header in the shape
// PostgREST uses, where taskauth reads it.
export function pgSettings(apiRole) {
  return (req) => ({
    role: apiRole,
    'request.headers': JSON.stringify({ authorization: req.headers.authorization ?? '' }),
  });
}

// The /graphql request handler (a Node http handler); .release() closes its pool.
export function createApi(config) {
  return postgraphile(config.databaseUrl, 'taskauth', {
    pluginHook: makePluginHook([refusedTokenPlugin]),
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
