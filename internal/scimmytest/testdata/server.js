// A SCIM 2.0 target on scimmy + scimmy-routers, with users and groups in
// memory and no extension schema (no enterprise User), for roster's tests
// (internal/scimmytest starts it: the sync engine's and the conformance
// checker's). It listens on 127.0.0.1 at the port
// given as its first argument (0: any free port), prints
// "listening on http://127.0.0.1:PORT/scim" when it does, and takes the
// bearer token given as its second argument.
import express from "express";
import SCIMMY from "scimmy";
import SCIMMYRouters from "scimmy-routers";
import {randomUUID} from "node:crypto";

const [port = "0", token = "secret"] = process.argv.slice(2);
const users = new Map();
const groups = new Map();

// store declares a resource type over a Map: egress filters, ingress
// creates or replaces (keeping meta.created), degress deletes. unique names
// the attribute that must be unique, ignoring case (409 uniqueness).
function store(Resource, map, unique) {
    SCIMMY.Resources.declare(Resource)
        .egress((resource) => {
            if (resource.id) {
                const r = map.get(resource.id);
                if (!r) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
                return r;
            }
            const all = [...map.values()];
            return resource.filter ? resource.filter.match(all) : all;
        })
        .ingress((resource, instance) => {
            const key = String(instance[unique] ?? "").toLowerCase();
            for (const r of map.values()) {
                if (r.id !== resource.id && String(r[unique] ?? "").toLowerCase() === key)
                    throw new SCIMMY.Types.Error(409, "uniqueness", `${unique} ${instance[unique]} is taken`);
            }
            const now = new Date();
            const old = resource.id ? map.get(resource.id) : undefined;
            if (resource.id && !old) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
            const id = resource.id ?? randomUUID();
            const r = {...JSON.parse(JSON.stringify(instance)), id,
                meta: {created: old?.meta?.created ?? now, lastModified: now}};
            map.set(id, r);
            return r;
        })
        .degress((resource) => {
            if (!map.delete(resource.id)) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
            if (map === users || map === groups) {
                for (const g of groups.values()) g.members = (g.members ?? []).filter((m) => m.value !== resource.id);
            }
        });
}
store(SCIMMY.Resources.User, users, "userName");
store(SCIMMY.Resources.Group, groups, "displayName");
SCIMMY.Config.set({patch: true, filter: {supported: true, maxResults: 200}});

const app = express();
app.use("/scim", new SCIMMYRouters({
    type: "bearer",
    handler: (req) => {
        if (req.header("Authorization") !== `Bearer ${token}`) throw new Error("Authorization failed");
        return "roster-tests";
    },
}));
const server = app.listen(Number(port), "127.0.0.1", () => {
    console.log(`listening on http://127.0.0.1:${server.address().port}/scim`);
});
