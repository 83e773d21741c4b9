// Real GraphQL clients, as their users configure them by default, against one URL.
// Usage: node clients.mjs http://127.0.0.1:PORT/graphql API_KEY
// Prints one JSON document: per client and per case, what the client's user sees.
import { GraphQLClient, ClientError } from 'graphql-request';
import * as apollo3 from 'apollo3/core/index.js';
import * as apollo4 from '@apollo/client';

const [url, apiKey] = process.argv.slice(2);
if (!url || !apiKey) {
  console.error('usage: node clients.mjs <graphql url> <api key>');
  process.exit(2);
}

const CASES = {
  success: '{ viewer { email } }',
  validation: '{ nope }',
  partial: '{ viewer { email } contact(id: "cnt_doesnotexist") { email } }',
};

// Every request each client sends, as the server sees it: Accept header, status, media type.
function recordingFetch(log) {
  return async (input, init) => {
    const response = await fetch(input, init);
    const headers = new Headers(init?.headers);
    log.push({
      accept: headers.get('accept'),
      status: response.status,
      contentType: response.headers.get('content-type'),
    });
    return response;
  };
}

function codes(errors) {
  return (errors ?? []).map((e) => e?.extensions?.code ?? null);
}

async function withGraphqlRequest(query, log) {
  const client = new GraphQLClient(url, {
    headers: { 'X-API-Key': apiKey },
    fetch: recordingFetch(log),
  });
  try {
    return { data: await client.request(query), codes: [] };
  } catch (error) {
    if (error instanceof ClientError) {
      return { data: error.response.data ?? null, codes: codes(error.response.errors) };
    }
    return { failure: String(error) };
  }
}

async function withApollo(module, query, log) {
  const { ApolloClient, InMemoryCache, HttpLink, gql } = module;
  const client = new ApolloClient({
    link: new HttpLink({ uri: url, headers: { 'X-API-Key': apiKey }, fetch: recordingFetch(log) }),
    cache: new InMemoryCache(),
  });
  try {
    const result = await client.query({ query: gql(query), errorPolicy: 'all' });
    // Apollo 3 puts GraphQL errors in `errors` (or error.graphQLErrors); Apollo 4 in `error.errors`.
    const errors = result.errors ?? result.error?.graphQLErrors ?? result.error?.errors ?? [];
    const out = { data: result.data ?? null, codes: codes(errors) };
    if (result.error && !errors.length) out.failure = String(result.error);
    return out;
  } catch (error) {
    const errors = error.graphQLErrors ?? error.errors ?? [];
    return errors.length ? { data: null, codes: codes(errors) } : { failure: String(error) };
  }
}

const clients = {
  'graphql-request 7': (q, log) => withGraphqlRequest(q, log),
  'Apollo Client 3': (q, log) => withApollo(apollo3, q, log),
  'Apollo Client 4': (q, log) => withApollo(apollo4, q, log),
};

const report = {};
for (const [name, run] of Object.entries(clients)) {
  report[name] = {};
  for (const [caseName, query] of Object.entries(CASES)) {
    const log = [];
    const seen = await run(query, log);
    report[name][caseName] = { ...seen, http: log };
  }
}
process.stdout.write(JSON.stringify(report) + '\n');
