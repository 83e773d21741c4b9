// The peer restloom is measured against (bench/side_by_side.py): a GraphQL server over
// the same mossdesk-style REST upstream, written the way an Apollo user would write it.
// Apollo Server 5 (standalone), @apollo/datasource-rest with its HTTP cache on (the
// server's in-memory cache, a 60 s TTL for every GET) and a DataLoader per request for
// users by id (one `filter[id]=a,b,c` call per batch). The schema covers what the
// benchmark queries: contacts, organizations -> members -> user, Relay connections with
// base64url global ids like restloom's.
//
// Environment: UPSTREAM (the sim's API base URL, e.g. http://127.0.0.1:8001/api/v1),
// API_KEY (sent when the caller sends no X-API-Key), PORT.
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { RESTDataSource } from "@apollo/datasource-rest";
import DataLoader from "dataloader";

const UPSTREAM = process.env.UPSTREAM ?? "http://127.0.0.1:8001/api/v1";
const API_KEY = process.env.API_KEY ?? "moss_k_demo_full";
const PORT = Number(process.env.PORT ?? 4000);
const CACHE_TTL = Number(process.env.CACHE_TTL ?? 60);
const MAX_PAGE = 100;

const typeDefs = `#graphql
  type PageInfo { hasNextPage: Boolean! hasPreviousPage: Boolean! startCursor: String endCursor: String }
  type Contact {
    id: ID! databaseId: String! firstName: String lastName: String email: String
    phone: String company: String jobTitle: String createdAt: String updatedAt: String
  }
  type ContactEdge { cursor: String! node: Contact! }
  type ContactConnection { edges: [ContactEdge!]! nodes: [Contact!]! pageInfo: PageInfo! totalCount: Int! }
  type UserProfile { firstName: String lastName: String avatarUrl: String }
  type User {
    id: ID! databaseId: String! email: String! username: String role: UserRole
    profile: UserProfile! createdAt: String updatedAt: String
  }
  enum MemberRole { OWNER ADMIN MEMBER }
  enum UserRole { ADMIN MEMBER VIEWER }
  type Member { cursor: String! role: MemberRole joinedAt: String node: User }
  type MemberConnection { edges: [Member!]! pageInfo: PageInfo! totalCount: Int! }
  type Organization {
    id: ID! databaseId: String! name: String! slug: String description: String memberCount: Int
    createdAt: String updatedAt: String
    members(first: Int, after: String): MemberConnection
  }
  type OrganizationEdge { cursor: String! node: Organization! }
  type OrganizationConnection {
    edges: [OrganizationEdge!]! nodes: [Organization!]! pageInfo: PageInfo! totalCount: Int!
  }
  type Query {
    contacts(first: Int, after: String): ContactConnection
    organizations(first: Int, after: String): OrganizationConnection
  }
`;

const globalId = (type, id) => Buffer.from(`${type}:${id}`).toString("base64url");
const cursorOf = (offset) => Buffer.from(`o:${offset}`).toString("base64url");
const offsetOf = (cursor) => {
  if (!cursor) return 0;
  const m = /^o:(\d+)$/.exec(Buffer.from(cursor, "base64url").toString());
  if (!m) throw new Error("invalid cursor");
  return Number(m[1]) + 1;
};

class Mossdesk extends RESTDataSource {
  baseURL = UPSTREAM.endsWith("/") ? UPSTREAM : `${UPSTREAM}/`;

  constructor(options, apiKey) {
    super(options);
    this.apiKey = apiKey;
  }

  willSendRequest(_path, request) {
    request.headers["x-api-key"] = this.apiKey;
  }

  // One key's cached answers are never served to another key.
  cacheKeyFor(url, request) {
    return `${this.apiKey}|${url}`;
  }

  getPage(path, page, perPage) {
    return this.get(path, {
      params: { page: String(page), per_page: String(perPage) },
      cacheOptions: { ttl: CACHE_TTL },
    });
  }

  getUsers(ids) {
    return this.get("users", {
      params: { "filter[id]": ids.join(","), per_page: String(ids.length) },
      cacheOptions: { ttl: CACHE_TTL },
    });
  }
}

// A window [offset, offset + first) of a page-numbered list: the pages that cover it.
async function connection(api, path, args, toNode, type) {
  const first = args.first ?? 25;
  if (first < 0 || first > MAX_PAGE) throw new Error(`first must be 0..${MAX_PAGE}`);
  const offset = offsetOf(args.after);
  let perPage = first;
  let page = first > 0 ? Math.floor(offset / first) + 1 : 1;
  if (first > 0 && offset % first !== 0) {
    perPage = MAX_PAGE;
    page = Math.floor(offset / perPage) + 1;
  }
  const body = await api.getPage(path, page, Math.max(perPage, 1));
  const start = (page - 1) * Math.max(perPage, 1);
  const items = body.data.slice(offset - start, offset - start + first);
  const edges = items.map((item, i) => ({ cursor: cursorOf(offset + i), node: toNode(item, type) }));
  const total = body.meta.total;
  return {
    edges,
    nodes: edges.map((e) => e.node),
    totalCount: total,
    pageInfo: {
      hasNextPage: offset + items.length < total,
      hasPreviousPage: offset > 0,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}

const asIs = (item) => item;

const resolvers = {
  MemberRole: { OWNER: "owner", ADMIN: "admin", MEMBER: "member" },
  UserRole: { ADMIN: "admin", MEMBER: "member", VIEWER: "viewer" },
  Query: {
    contacts: (_, args, { api }) => connection(api, "contacts", args, asIs),
    organizations: (_, args, { api }) => connection(api, "organizations", args, asIs),
  },
  Contact: {
    id: (c) => globalId("Contact", c.id),
    databaseId: (c) => c.id,
    firstName: (c) => c.first_name,
    lastName: (c) => c.last_name,
    jobTitle: (c) => c.job_title,
    createdAt: (c) => c.created_at,
    updatedAt: (c) => c.updated_at,
  },
  Organization: {
    id: (o) => globalId("Organization", o.id),
    databaseId: (o) => o.id,
    memberCount: (o) => o.member_count,
    createdAt: (o) => o.created_at,
    updatedAt: (o) => o.updated_at,
    // A member edge is the membership itself: its role, and its user as the node.
    members: async (o, args, { api }) => {
      const path = `organizations/${encodeURIComponent(o.id)}/members`;
      const page = await connection(api, path, args, asIs);
      return { ...page, edges: page.edges.map((e) => ({ ...e.node, cursor: e.cursor })) };
    },
  },
  Member: {
    joinedAt: (m) => m.joined_at,
    node: (m, _, { users }) => users.load(m.user_id),
  },
  User: {
    id: (u) => globalId("User", u.id),
    databaseId: (u) => u.id,
    profile: (u) => u.profile ?? {},
    createdAt: (u) => u.created_at,
    updatedAt: (u) => u.updated_at,
  },
  UserProfile: {
    firstName: (p) => p.first_name,
    lastName: (p) => p.last_name,
    avatarUrl: (p) => p.avatar_url,
  },
};

const server = new ApolloServer({ typeDefs, resolvers });
const { url } = await startStandaloneServer(server, {
  listen: { port: PORT, host: "127.0.0.1" },
  context: async ({ req }) => {
    const key = req.headers["x-api-key"] || API_KEY;
    const api = new Mossdesk({ cache: server.cache }, key);
    const users = new DataLoader(async (ids) => {
      const body = await api.getUsers(ids);
      const byId = new Map(body.data.map((u) => [u.id, u]));
      return ids.map((id) => byId.get(id) ?? null);
    });
    return { api, users };
  },
});
console.log(`peer on ${url}`);
