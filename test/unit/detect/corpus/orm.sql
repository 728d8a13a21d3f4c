# Benign statements in the shapes ORMs and drivers emit: Prisma, Sequelize,
# TypeORM, Django, Rails (Active Record), SQLAlchemy, Knex, Hibernate, plus
# the catalog introspection they run at start and hand-written reporting
# SQL. Written for the false-positive measurement of the statement
# detectors: none of these may raise anything.
# Statements are separated by blank lines; lines starting with # are notes.

# --- Prisma (extended protocol, quoted identifiers, $n parameters)
SELECT "public"."User"."id", "public"."User"."email", "public"."User"."name" FROM "public"."User" WHERE "public"."User"."email" = $1 LIMIT $2 OFFSET $3

SELECT "public"."User"."id", "public"."User"."email" FROM "public"."User" WHERE ("public"."User"."email" = $1 OR "public"."User"."name" = $2) OFFSET $3

SELECT "public"."Post"."id", "public"."Post"."title", "public"."Post"."authorId" FROM "public"."Post" WHERE "public"."Post"."authorId" IN ($1,$2,$3,$4) OFFSET $5

SELECT "public"."Post"."id", "public"."Post"."title" FROM "public"."Post" WHERE ("public"."Post"."published" = $1 AND "public"."Post"."title"::text ILIKE $2) ORDER BY "public"."Post"."createdAt" DESC LIMIT $3 OFFSET $4

INSERT INTO "public"."User" ("email","name","createdAt") VALUES ($1,$2,$3) RETURNING "public"."User"."id", "public"."User"."email", "public"."User"."name"

UPDATE "public"."User" SET "name" = $1, "updatedAt" = $2 WHERE ("public"."User"."id" = $3 AND 1=1) RETURNING "public"."User"."id"

DELETE FROM "public"."Post" WHERE ("public"."Post"."id" IN ($1) AND 1=1)

SELECT COUNT(*) AS "_count._all" FROM (SELECT "public"."Post"."id" FROM "public"."Post" WHERE "public"."Post"."published" = $1 OFFSET $2) AS "sub"

SELECT "public"."User"."id" FROM "public"."User" WHERE 1=0 OFFSET $1

SELECT "public"."User"."id" FROM "public"."User" WHERE ("public"."User"."id") IN (SELECT "t1"."authorId" FROM "public"."Post" AS "t1" WHERE ("t1"."published" = $1 AND "t1"."authorId" IS NOT NULL)) OFFSET $2

SELECT "public"."Profile"."id", "public"."Profile"."bio" FROM "public"."Profile" WHERE "public"."Profile"."userId" = $1 LIMIT $2 OFFSET $3

SELECT "public"."Post"."id" FROM "public"."Post" WHERE "public"."Post"."metadata"::jsonb @> $1 OFFSET $2

INSERT INTO "public"."Tag" ("name") VALUES ($1) ON CONFLICT ("name") DO UPDATE SET "name" = EXCLUDED."name" RETURNING "public"."Tag"."id"

SELECT "public"."Order"."id", "public"."Order"."total"::text FROM "public"."Order" WHERE ("public"."Order"."total" >= $1 AND "public"."Order"."total" <= $2) ORDER BY "public"."Order"."id" ASC LIMIT $3 OFFSET $4

BEGIN

COMMIT

ROLLBACK

SELECT 1

SELECT version()

SELECT current_setting('server_version_num')::integer AS version

SELECT EXISTS(SELECT 1 FROM pg_namespace WHERE nspname = $1)

SELECT schema_name FROM information_schema.schemata ORDER BY schema_name

SELECT tbl.relname AS table_name, namespace.nspname AS namespace FROM pg_class AS tbl INNER JOIN pg_namespace AS namespace ON namespace.oid = tbl.relnamespace WHERE ( ( tbl.relkind = 'r' AND tbl.relispartition = false ) OR tbl.relkind = 'p' ) AND namespace.nspname = ANY ( $1 ) ORDER BY namespace, table_name

SELECT oid.namespace, info.table_name, info.column_name, format_type(att.atttypid, att.atttypmod) AS formatted_type, info.numeric_precision, info.numeric_scale, info.data_type, info.is_nullable, info.column_default FROM information_schema.columns info JOIN pg_attribute att ON att.attname = info.column_name JOIN (SELECT pg_class.oid, relname, pg_namespace.nspname AS namespace FROM pg_class JOIN pg_namespace ON pg_namespace.oid = pg_class.relnamespace AND pg_namespace.nspname = ANY ( $1 ) WHERE reltype > 0) AS oid ON oid.oid = att.attrelid AND relname = info.table_name AND namespace = info.table_schema ORDER BY namespace, table_name, ordinal_position

SELECT con.oid AS "con_id", att2.attname AS "child_column", cl.relname AS "parent_table", att.attname AS "parent_column", con.confdeltype, con.confupdtype, rel_ns.nspname AS "referenced_schema_name", conname AS constraint_name, child, parent, table_name, namespace FROM (SELECT ns.nspname AS "namespace", unnest(con1.conkey) AS "parent", unnest(con1.confkey) AS "child", cl.relname AS table_name, ns.nspname AS schema_name, generate_subscripts(con1.conkey, 1) AS colidx, con1.oid, con1.confrelid, con1.conrelid, con1.conname, con1.confdeltype, con1.confupdtype FROM pg_class cl JOIN pg_constraint con1 ON con1.conrelid = cl.oid JOIN pg_namespace ns ON cl.relnamespace = ns.oid WHERE ns.nspname = ANY ( $1 ) AND con1.contype = 'f' ORDER BY colidx) con JOIN pg_attribute att ON att.attrelid = con.confrelid AND att.attnum = con.child JOIN pg_class cl ON cl.oid = con.confrelid JOIN pg_attribute att2 ON att2.attrelid = con.conrelid AND att2.attnum = con.parent JOIN pg_namespace rel_ns ON cl.relnamespace = rel_ns.oid ORDER BY namespace, table_name, constraint_name, con_id, con.colidx

SELECT t.typname AS name, e.enumlabel AS value, n.nspname AS namespace FROM pg_type t JOIN pg_enum e ON t.oid = e.enumtypid JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = ANY ( $1 ) ORDER BY e.enumsortorder

SELECT pg_advisory_lock(72707369)

SELECT pg_advisory_unlock(72707369)

SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" ORDER BY started_at ASC

# --- Sequelize (simple protocol, values inlined, trailing semicolons)
SELECT "id", "firstName", "lastName", "email", "createdAt", "updatedAt" FROM "Users" AS "User" WHERE "User"."id" = 42;

SELECT "id", "email" FROM "Users" AS "User" WHERE "User"."email" = 'alice@example.com' LIMIT 1;

SELECT "User"."id", "User"."email", "Projects"."id" AS "Projects.id", "Projects"."title" AS "Projects.title" FROM "Users" AS "User" LEFT OUTER JOIN "Projects" AS "Projects" ON "User"."id" = "Projects"."userId" WHERE "User"."id" = 7;

SELECT "id", "title" FROM "Projects" AS "Project" WHERE ("Project"."status" = 'open' OR "Project"."priority" > 3) ORDER BY "Project"."createdAt" DESC LIMIT 20 OFFSET 40;

SELECT "id", "title" FROM "Projects" AS "Project" WHERE "Project"."id" IN (1, 2, 3, 5, 8, 13);

SELECT "id" FROM "Projects" AS "Project" WHERE 0 = 1;

SELECT count(*) AS "count" FROM "Users" AS "User" WHERE "User"."deletedAt" IS NULL;

INSERT INTO "Users" ("id","firstName","lastName","email","createdAt","updatedAt") VALUES (DEFAULT,'Ada','Lovelace','ada@example.com','2024-05-01 10:00:00.000 +00:00','2024-05-01 10:00:00.000 +00:00') RETURNING "id","firstName","lastName","email","createdAt","updatedAt";

UPDATE "Users" SET "lastName"='O''Brien',"updatedAt"='2024-05-02 09:30:00.000 +00:00' WHERE "id" = 42

DELETE FROM "Sessions" WHERE "expires" < '2024-05-01 00:00:00.000 +00:00'

INSERT INTO "Tags" ("id","name","createdAt","updatedAt") VALUES (DEFAULT,'postgres','2024-05-01 10:00:00.000 +00:00','2024-05-01 10:00:00.000 +00:00') ON CONFLICT ("name") DO NOTHING RETURNING "id","name";

INSERT INTO "UserStats" ("userId","visits","updatedAt") VALUES (42,1,'2024-05-01 10:00:00.000 +00:00') ON CONFLICT ("userId") DO UPDATE SET "visits"=EXCLUDED."visits","updatedAt"=EXCLUDED."updatedAt" RETURNING "userId","visits";

SELECT "id", "title" FROM "Projects" AS "Project" WHERE "Project"."title" ILIKE '%report%' AND ("Project"."archived" = false OR "Project"."archived" IS NULL);

SELECT "id" FROM "Documents" AS "Document" WHERE "Document"."meta"#>>'{author,name}' = 'Grace Hopper';

SELECT "id" FROM "Documents" AS "Document" WHERE ("Document"."meta"->>'kind') = 'invoice' AND "Document"."total" BETWEEN 100 AND 500;

SELECT i.relname AS name, ix.indisprimary AS primary, ix.indisunique AS unique, ix.indkey AS indkey, array_agg(a.attnum) as column_indexes, array_agg(a.attname) AS column_names, pg_get_indexdef(ix.indexrelid) AS definition FROM pg_class t, pg_class i, pg_index ix, pg_attribute a WHERE t.oid = ix.indrelid AND i.oid = ix.indexrelid AND a.attrelid = t.oid AND t.relkind = 'r' and t.relname = 'Users' GROUP BY i.relname, ix.indexrelid, ix.indisprimary, ix.indisunique, ix.indkey ORDER BY i.relname;

SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type LIKE '%TABLE' AND table_name != 'spatial_ref_sys';

SELECT pk.constraint_type as "Constraint",c.column_name as "Field", c.column_default as "Default",c.is_nullable as "Null", (CASE WHEN c.udt_name = 'hstore' THEN c.udt_name ELSE c.data_type END) || (CASE WHEN c.character_maximum_length IS NOT NULL THEN '(' || c.character_maximum_length || ')' ELSE '' END) as "Type", (SELECT array_agg(e.enumlabel) FROM pg_catalog.pg_type t JOIN pg_catalog.pg_enum e ON t.oid=e.enumtypid WHERE t.typname=c.udt_name) AS "special", (SELECT pgd.description FROM pg_catalog.pg_statio_all_tables AS st INNER JOIN pg_catalog.pg_description pgd on (pgd.objoid=st.relid) WHERE c.ordinal_position=pgd.objsubid AND c.table_name=st.relname) AS "Comment" FROM information_schema.columns c LEFT JOIN (SELECT tc.table_schema, tc.table_name, cu.column_name, tc.constraint_type FROM information_schema.TABLE_CONSTRAINTS tc JOIN information_schema.KEY_COLUMN_USAGE cu ON tc.table_schema=cu.table_schema and tc.table_name=cu.table_name and tc.constraint_name=cu.constraint_name and tc.constraint_type='PRIMARY KEY') pk ON pk.table_schema=c.table_schema AND pk.table_name=c.table_name AND pk.column_name=c.column_name WHERE c.table_name = 'Users' AND c.table_schema = 'public'

START TRANSACTION;

COMMIT;

SAVEPOINT "sequelize_sp_1";

ROLLBACK TO SAVEPOINT "sequelize_sp_1";

SET TIME ZONE 'UTC'

SELECT "name" FROM "SequelizeMeta" AS "SequelizeMeta" ORDER BY "SequelizeMeta"."name" ASC;

CREATE TABLE IF NOT EXISTS "Users" ("id"   SERIAL , "firstName" VARCHAR(255), "email" VARCHAR(255) NOT NULL UNIQUE, "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL, "updatedAt" TIMESTAMP WITH TIME ZONE NOT NULL, PRIMARY KEY ("id"));

# --- TypeORM (extended protocol, aliases)
SELECT "User"."id" AS "User_id", "User"."firstName" AS "User_firstName", "User"."isActive" AS "User_isActive" FROM "user" "User" WHERE "User"."id" IN ($1) LIMIT 1

SELECT "User"."id" AS "User_id", "User"."email" AS "User_email" FROM "user" "User" WHERE (("User"."email" = $1) OR ("User"."username" = $2)) LIMIT 1

SELECT DISTINCT "distinctAlias"."User_id" AS "ids_User_id" FROM (SELECT "User"."id" AS "User_id", "photos"."id" AS "photos_id" FROM "user" "User" LEFT JOIN "photo" "photos" ON "photos"."userId"="User"."id" WHERE "User"."isActive" = $1) "distinctAlias" ORDER BY "User_id" ASC LIMIT 10 OFFSET 20

SELECT COUNT(DISTINCT("User"."id")) AS "cnt" FROM "user" "User" WHERE "User"."createdAt" > $1

INSERT INTO "user"("firstName", "lastName", "isActive") VALUES ($1, $2, DEFAULT) RETURNING "id", "isActive"

UPDATE "user" SET "lastName" = $1, "updatedAt" = CURRENT_TIMESTAMP WHERE "id" IN ($2)

DELETE FROM "photo" WHERE "id" = $1

INSERT INTO "settings"("key", "value") VALUES ($1, $2) ON CONFLICT ( "key" ) DO UPDATE SET "value" = EXCLUDED."value"

SELECT "Photo"."id" AS "Photo_id" FROM "photo" "Photo" WHERE "Photo"."metadata" ->> 'orientation' = $1 AND "Photo"."views" >= $2

SELECT "Photo"."id" AS "Photo_id" FROM "photo" "Photo" WHERE EXISTS (SELECT 1 FROM "album_photos" "ap" WHERE "ap"."photoId" = "Photo"."id" AND "ap"."albumId" = $1)

SELECT * FROM current_schema()

SELECT * FROM "information_schema"."tables" WHERE "table_schema" = 'public' AND "table_name" = 'migrations'

SELECT * FROM "migrations" "migrations" ORDER BY "id" DESC

SELECT "udt_schema", "udt_name" FROM "information_schema"."columns" WHERE "table_schema" = 'public' AND "table_name" = 'user' AND "column_name" = 'role'

SELECT "e"."enumlabel" AS "value" FROM "pg_enum" "e" INNER JOIN "pg_type" "t" ON "t"."oid" = "e"."enumtypid" INNER JOIN "pg_namespace" "n" ON "n"."oid" = "t"."typnamespace" WHERE "n"."nspname" = 'public' AND "t"."typname" = 'user_role_enum'

SELECT "ns"."nspname" AS "table_schema", "t"."relname" AS "table_name", "i"."relname" AS "constraint_name", "a"."attname" AS "column_name", CASE "ix"."indisunique" WHEN 't' THEN 'TRUE' ELSE'FALSE' END AS "is_unique", pg_get_expr("ix"."indpred", "ix"."indrelid") AS "condition", "types"."typname" AS "type_name" FROM "pg_class" "t" INNER JOIN "pg_index" "ix" ON "ix"."indrelid" = "t"."oid" INNER JOIN "pg_attribute" "a" ON "a"."attrelid" = "t"."oid"  AND "a"."attnum" = ANY ("ix"."indkey") INNER JOIN "pg_namespace" "ns" ON "ns"."oid" = "t"."relnamespace" INNER JOIN "pg_class" "i" ON "i"."oid" = "ix"."indexrelid" LEFT JOIN "pg_type" "types" ON "types"."oid" = "a"."atttypid" WHERE "t"."relkind" IN ('r', 'p') AND "ix"."indisprimary" = 'f' AND (("ns"."nspname" = 'public' AND "t"."relname" = 'user'))

SELECT "constraint_name", "table_name" FROM "information_schema"."table_constraints" WHERE "constraint_type" = 'FOREIGN KEY' AND "table_schema" = current_schema()

SELECT version();

# --- Django (psycopg2 interpolates parameters client-side: simple protocol)
SELECT "auth_user"."id", "auth_user"."password", "auth_user"."last_login", "auth_user"."is_superuser", "auth_user"."username" FROM "auth_user" WHERE "auth_user"."username" = 'alice' LIMIT 21

SELECT "django_session"."session_key", "django_session"."session_data", "django_session"."expire_date" FROM "django_session" WHERE ("django_session"."expire_date" > '2024-05-01T10:00:00.123456+00:00'::timestamptz AND "django_session"."session_key" = 'q8z3x0c5v7b9n1m2') LIMIT 21

SELECT "shop_order"."id", "shop_order"."total" FROM "shop_order" WHERE ("shop_order"."status" = 'paid' OR "shop_order"."status" = 'shipped') ORDER BY "shop_order"."created" DESC LIMIT 21

SELECT "shop_order"."id" FROM "shop_order" WHERE ("shop_order"."customer_id" = 17 AND NOT ("shop_order"."status" = 'cancelled' AND "shop_order"."status" IS NOT NULL))

SELECT "shop_product"."id", "shop_product"."name" FROM "shop_product" WHERE UPPER("shop_product"."name"::text) LIKE UPPER('%chair%') ORDER BY "shop_product"."name" ASC

SELECT "shop_product"."id" FROM "shop_product" WHERE "shop_product"."id" IN (3, 14, 15, 92, 65)

SELECT COUNT(*) AS "__count" FROM "shop_product" WHERE "shop_product"."price" >= 10.00

SELECT (1) AS "a" FROM "auth_user" WHERE "auth_user"."email" = 'bob@example.com' LIMIT 1

SELECT "shop_order"."id", "shop_customer"."id", "shop_customer"."name" FROM "shop_order" INNER JOIN "shop_customer" ON ("shop_order"."customer_id" = "shop_customer"."id") WHERE "shop_order"."id" = 1001 LIMIT 21

SELECT "shop_product"."id" FROM "shop_product" WHERE EXISTS(SELECT 1 AS "a" FROM "shop_review" U1 WHERE (U1."product_id" = ("shop_product"."id") AND U1."stars" >= 4) LIMIT 1)

SELECT "shop_product"."id", "shop_product"."attrs" FROM "shop_product" WHERE ("shop_product"."attrs" -> 'color') = '"red"'::jsonb

SELECT "shop_product"."id" FROM "shop_product" WHERE "shop_product"."attrs" @> '{"size": "L"}'::jsonb

SELECT "shop_product"."id" FROM "shop_product" WHERE "shop_product"."tags" && ARRAY['sale','new']::varchar(50)[]

INSERT INTO "shop_order" ("customer_id", "status", "total", "created") VALUES (17, 'new', 129.90, '2024-05-01T10:00:00+00:00'::timestamptz) RETURNING "shop_order"."id"

UPDATE "shop_order" SET "status" = 'paid' WHERE "shop_order"."id" = 1001

DELETE FROM "django_session" WHERE "django_session"."expire_date" < '2024-05-01T00:00:00+00:00'::timestamptz

INSERT INTO "shop_tag" ("name") VALUES ('blue'), ('green') ON CONFLICT DO NOTHING

INSERT INTO "shop_stock" ("product_id", "qty") VALUES (3, 5) ON CONFLICT("product_id") DO UPDATE SET "qty" = EXCLUDED."qty"

SELECT "shop_order"."customer_id", SUM("shop_order"."total") AS "spent" FROM "shop_order" GROUP BY "shop_order"."customer_id" HAVING SUM("shop_order"."total") > 1000 ORDER BY 2 DESC

SELECT "shop_product"."id" FROM "shop_product" WHERE "shop_product"."search" @@ (plainto_tsquery('english'::regconfig, 'oak table')) = true

SELECT DISTINCT ON ("shop_order"."customer_id") "shop_order"."id" FROM "shop_order" ORDER BY "shop_order"."customer_id" ASC, "shop_order"."created" DESC

SELECT "shop_order"."id" FROM "shop_order" WHERE "shop_order"."created" BETWEEN '2024-01-01T00:00:00+00:00'::timestamptz AND '2024-01-31T23:59:59.999999+00:00'::timestamptz

SELECT "django_migrations"."id", "django_migrations"."app", "django_migrations"."name", "django_migrations"."applied" FROM "django_migrations"

SELECT c.relname, CASE WHEN c.relispartition THEN 'p' WHEN c.relkind IN ('m', 'v') THEN 'v' ELSE 't' END, obj_description(c.oid, 'pg_class') FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('f', 'm', 'p', 'r', 'v') AND n.nspname NOT IN ('pg_catalog', 'pg_toast') AND pg_catalog.pg_table_is_visible(c.oid)

SELECT a.attname AS column_name, NOT (a.attnotnull OR (t.typtype = 'd' AND t.typnotnull)) AS is_nullable, pg_get_expr(ad.adbin, ad.adrelid) AS column_default, CASE WHEN collname = 'default' THEN NULL ELSE collname END AS collation, a.attidentity != '' AS is_autofield, col_description(a.attrelid, a.attnum) AS column_comment FROM pg_attribute a LEFT JOIN pg_attrdef ad ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum LEFT JOIN pg_collation co ON a.attcollation = co.oid JOIN pg_type t ON a.atttypid = t.oid JOIN pg_class c ON a.attrelid = c.oid JOIN pg_namespace n ON c.relnamespace = n.oid WHERE c.relkind IN ('f', 'm', 'p', 'r', 'v') AND c.relname = 'shop_order' AND n.nspname NOT IN ('pg_catalog', 'pg_toast') AND pg_catalog.pg_table_is_visible(c.oid)

SELECT s.relname as sequence_name, a.attname as colname FROM pg_class s JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass JOIN pg_attribute a ON d.refobjid = a.attrelid AND d.refobjsubid = a.attnum JOIN pg_class tbl ON tbl.oid = d.refobjid AND tbl.relname = 'shop_order' AND pg_catalog.pg_table_is_visible(tbl.oid) WHERE s.relkind = 'S'

SELECT c.conname, array(SELECT attname FROM unnest(c.conkey) WITH ORDINALITY cols(colid, arridx) JOIN pg_attribute AS ca ON cols.colid = ca.attnum WHERE ca.attrelid = c.conrelid ORDER BY cols.arridx), c.contype, (SELECT fkc.relname || '.' || fka.attname FROM pg_attribute AS fka JOIN pg_class AS fkc ON fka.attrelid = fkc.oid WHERE fka.attrelid = c.confrelid AND fka.attnum = c.confkey[1]), cl.reloptions FROM pg_constraint AS c JOIN pg_class AS cl ON c.conrelid = cl.oid WHERE cl.relname = 'shop_order' AND pg_catalog.pg_table_is_visible(cl.oid)

SET TIME ZONE 'UTC'

SHOW server_version

SELECT set_config('search_path', 'public', false)

# --- Rails / Active Record (prepared statements, $n)
SELECT "users".* FROM "users" WHERE "users"."id" = $1 LIMIT $2

SELECT "users".* FROM "users" WHERE "users"."email" = $1 AND "users"."deleted_at" IS NULL ORDER BY "users"."id" ASC LIMIT $2

SELECT "posts".* FROM "posts" WHERE "posts"."user_id" IN ($1, $2, $3)

SELECT "posts".* FROM "posts" WHERE ("posts"."published" = $1 OR "posts"."user_id" = $2) ORDER BY "posts"."created_at" DESC LIMIT $3 OFFSET $4

SELECT "posts".* FROM "posts" WHERE 1=0

SELECT "posts".* FROM "posts" INNER JOIN "taggings" ON "taggings"."post_id" = "posts"."id" INNER JOIN "tags" ON "tags"."id" = "taggings"."tag_id" WHERE "tags"."name" = $1

SELECT COUNT(*) FROM "comments" WHERE "comments"."post_id" = $1

SELECT 1 AS one FROM "users" WHERE "users"."email" = $1 LIMIT $2

INSERT INTO "users" ("email", "name", "created_at", "updated_at") VALUES ($1, $2, $3, $4) RETURNING "id"

UPDATE "users" SET "name" = $1, "updated_at" = $2 WHERE "users"."id" = $3

DELETE FROM "posts" WHERE "posts"."id" = $1

INSERT INTO "page_views" ("path","count") VALUES ('/home', 1) ON CONFLICT ("path") DO UPDATE SET "count" = "page_views"."count" + excluded."count" RETURNING "id"

SELECT "users".* FROM "users" WHERE "users"."settings"->>'theme' = $1

SELECT "users".* FROM "users" WHERE (users.created_at > NOW() - interval '30 days')

SELECT "schema_migrations"."version" FROM "schema_migrations" ORDER BY "schema_migrations"."version" ASC

SELECT "ar_internal_metadata"."value" FROM "ar_internal_metadata" WHERE "ar_internal_metadata"."key" = $1 LIMIT $2

SELECT pg_try_advisory_lock(6055924462437389125)

SELECT pg_advisory_unlock(6055924462437389125)

SET client_min_messages TO 'warning'

SET standard_conforming_strings = on

SET intervalstyle = iso_8601

SELECT t.oid, t.typname FROM pg_type as t WHERE t.typname IN ('int2', 'int4', 'int8', 'oid', 'float4', 'float8', 'numeric', 'bool', 'timestamp', 'timestamptz')

SELECT t.oid, t.typname, t.typelem, t.typdelim, t.typinput, r.rngsubtype, t.typtype, t.typbasetype FROM pg_type as t LEFT JOIN pg_range as r ON oid = rngtypid WHERE t.typtype IN ('r', 'e', 'd') OR t.typinput = 'array_in(cstring,oid,integer)'::regprocedure OR t.typelem != 0

SELECT a.attname, format_type(a.atttypid, a.atttypmod), pg_get_expr(d.adbin, d.adrelid), a.attnotnull, a.atttypid, a.atttypmod, c.collname, col_description(a.attrelid, a.attnum) AS comment, attidentity AS identity, attgenerated as attgenerated FROM pg_attribute a LEFT JOIN pg_attrdef d ON a.attrelid = d.adrelid AND a.attnum = d.adnum LEFT JOIN pg_type t ON a.atttypid = t.oid LEFT JOIN pg_collation c ON a.attcollation = c.oid AND a.attcollation <> t.typcollation WHERE a.attrelid = '"users"'::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum

SELECT c.relname FROM pg_class c LEFT JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY (current_schemas(false)) AND c.relname = 'users' AND c.relkind IN ('r','p')

SELECT a.attname FROM ( SELECT indrelid, indkey, generate_subscripts(indkey, 1) idx FROM pg_index WHERE indrelid = '"users"'::regclass AND indisprimary ) i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[i.idx] ORDER BY i.idx

SHOW max_identifier_length

SELECT current_database()

# --- SQLAlchemy (psycopg2, rendered literals)
SELECT users.id AS users_id, users.name AS users_name, users.fullname AS users_fullname FROM users WHERE users.name = 'ed' LIMIT 1

SELECT users.id AS users_id, users.name AS users_name FROM users WHERE users.name IN ('ed', 'wendy', 'jack') ORDER BY users.id

SELECT users.id AS users_id FROM users WHERE users.name IN (NULL) AND (1 != 1)

SELECT users.id, users.name FROM users WHERE users.name = 'ed' OR users.name = 'wendy'

SELECT addresses.id, addresses.email_address FROM addresses JOIN users ON users.id = addresses.user_id WHERE users.name = 'jack' AND addresses.email_address LIKE '%@google.com'

SELECT count(*) AS count_1 FROM (SELECT users.id AS users_id FROM users WHERE users.name LIKE '%ed') AS anon_1

SELECT users.name, count(addresses.id) AS count_1 FROM users LEFT OUTER JOIN addresses ON users.id = addresses.user_id GROUP BY users.name HAVING count(addresses.id) > 2

SELECT users.id FROM users WHERE EXISTS (SELECT * FROM addresses WHERE users.id = addresses.user_id AND addresses.email_address LIKE '%google%')

SELECT anon_1.users_id FROM (SELECT users.id AS users_id, row_number() OVER (PARTITION BY users.name ORDER BY users.id) AS rn FROM users) AS anon_1 WHERE anon_1.rn = 1

INSERT INTO users (name, fullname) VALUES ('ed', 'Ed Jones') RETURNING users.id

UPDATE users SET fullname='Edward Jones' WHERE users.id = 5

DELETE FROM addresses WHERE addresses.id = 9

INSERT INTO my_table (id, data) VALUES (1, 'inserted value') ON CONFLICT ON CONSTRAINT pk_my_table DO UPDATE SET data = excluded.data WHERE my_table.data IS DISTINCT FROM excluded.data

WITH regional_sales AS (SELECT orders.region AS region, sum(orders.amount) AS total_sales FROM orders GROUP BY orders.region), top_regions AS (SELECT regional_sales.region AS region FROM regional_sales WHERE regional_sales.total_sales > (SELECT sum(regional_sales.total_sales) / 10 FROM regional_sales)) SELECT orders.region, orders.product, sum(orders.quantity) AS product_units FROM orders WHERE orders.region IN (SELECT top_regions.region FROM top_regions) GROUP BY orders.region, orders.product

select pg_catalog.version()

select current_schema()

show standard_conforming_strings

select relname from pg_class c join pg_namespace n on n.oid=c.relnamespace where pg_catalog.pg_table_is_visible(c.oid) and relname='users'

SELECT pg_catalog.pg_class.relname FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace WHERE pg_catalog.pg_class.relkind = ANY (ARRAY['r', 'p']) AND pg_catalog.pg_class.relpersistence != 't' AND pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname != 'pg_catalog'

# --- Knex (extended protocol, ? rendered as $n)
select * from "accounts" where "id" = $1 limit $2

select "id", "name" from "accounts" where "status" in ($1, $2, $3) order by "name" asc limit $4 offset $5

select * from "accounts" where "email" = $1 or "backup_email" = $2

select count("id") as "n" from "accounts" where "created_at" > $1

insert into "accounts" ("email", "name") values ($1, $2) returning "id"

insert into "accounts" ("email", "name") values ($1, $2) on conflict ("email") do update set "name" = excluded."name" returning *

update "accounts" set "name" = $1 where "id" = $2

delete from "accounts" where "id" = $1

select * from "accounts" where not exists (select 1 from "bans" where "bans"."account_id" = "accounts"."id")

select * from information_schema.tables where table_name = $1 and table_schema = current_schema()

select * from "knex_migrations_lock"

update "knex_migrations_lock" set "is_locked" = $1 where "is_locked" = $2

select "name" from "knex_migrations" order by "id" asc

select * from "accounts" where "data" ->> 'plan' = $1

select "accounts".* from "accounts" inner join "plans" on "plans"."id" = "accounts"."plan_id" where "plans"."price" > $1

# --- Hibernate / JDBC
select u1_0.id,u1_0.email,u1_0.name from users u1_0 where u1_0.id=?

select o1_0.id,o1_0.status from orders o1_0 where o1_0.customer_id=? and (o1_0.status=? or o1_0.status=?) order by o1_0.created desc offset ? rows fetch first ? rows only

select nextval('users_seq')

insert into users (email,name,id) values ($1,$2,$3)

update orders set status=$1 where id=$2

select count(*) from orders o1_0 where o1_0.created between $1 and $2

SET application_name = 'PostgreSQL JDBC Driver'

select o1_0.id from orders o1_0 where o1_0.total>=$1 and exists(select 1 from order_items i1_0 where i1_0.order_id=o1_0.id and i1_0.qty>$2)

# --- node-postgres / asyncpg / pgx hand-written SQL with parameters
SELECT id, name, email FROM customers WHERE id = $1

SELECT id FROM customers WHERE lower(email) = lower($1) AND deleted_at IS NULL

SELECT c.id, c.name, COALESCE(SUM(o.total), 0) AS spent FROM customers c LEFT JOIN orders o ON o.customer_id = c.id AND o.status <> 'cancelled' GROUP BY c.id, c.name ORDER BY spent DESC LIMIT 10

SELECT * FROM orders WHERE customer_id = $1 AND created_at >= now() - interval '7 days' ORDER BY created_at DESC

SELECT id FROM orders WHERE id = ANY($1::int[])

SELECT id, payload->>'type' AS kind FROM events WHERE payload @> $1::jsonb AND created_at > $2

SELECT jsonb_build_object('id', id, 'name', name) FROM products WHERE category_id = $1

WITH RECURSIVE tree AS (SELECT id, parent_id, name, 1 AS depth FROM categories WHERE id = $1 UNION ALL SELECT c.id, c.parent_id, c.name, t.depth + 1 FROM categories c JOIN tree t ON c.parent_id = t.id) SELECT * FROM tree ORDER BY depth

SELECT id, name FROM products WHERE name ILIKE '%' || $1 || '%' ORDER BY name LIMIT 50

SELECT date_trunc('day', created_at) AS day, count(*) FROM orders WHERE created_at >= $1 GROUP BY 1 ORDER BY 1

SELECT id FROM jobs WHERE state = 'ready' AND run_at <= now() ORDER BY priority DESC, run_at LIMIT 1 FOR UPDATE SKIP LOCKED

UPDATE jobs SET state = 'running', started_at = now() WHERE id = $1 RETURNING *

INSERT INTO audit_events (actor, action, detail) VALUES ($1, $2, $3::jsonb)

SELECT p.id, p.name, (SELECT count(*) FROM reviews r WHERE r.product_id = p.id)::int AS reviews FROM products p WHERE p.active

SELECT p.id, p.price::numeric(10,2) AS price, CAST(p.stock AS integer) AS stock FROM products p WHERE p.id = $1

SELECT id, name FROM customers WHERE (region = $1 OR region IS NULL) AND tier >= $2

SELECT id FROM sessions WHERE token = $1 AND expires_at > now()

SELECT name, setting FROM pg_settings WHERE name IN ('max_connections', 'shared_buffers')

SELECT now()

SELECT pg_notify('jobs', $1)

LISTEN jobs

UNLISTEN *

DISCARD ALL

SELECT id FROM orders WHERE tenant_id = current_setting('app.tenant_id')::int AND status = $1

SELECT id FROM documents WHERE owner = current_user ORDER BY id

SELECT id FROM documents WHERE owner = (SELECT current_user) AND id = $1

SELECT id FROM invoices WHERE org_id = (SELECT current_setting('app.org_id'))::bigint

SELECT CASE WHEN count(*) > 0 THEN true ELSE false END AS has_orders FROM orders WHERE customer_id = $1

SELECT i.id, i.total, c.name FROM invoices i JOIN customers c USING (customer_id) WHERE i.due < current_date AND NOT i.paid

SELECT u.id FROM users u WHERE u.last_login < now() - make_interval(days => $1)

SELECT id FROM files WHERE path LIKE 'uploads/%' AND size_bytes > 1048576

SELECT x.id FROM (VALUES (1), (2), (3)) AS x(id)

SELECT generate_series(1, 10) AS n

SELECT * FROM unnest($1::text[]) WITH ORDINALITY AS t(value, position)

SELECT id, name FROM staff UNION SELECT id, name FROM contractors ORDER BY name

SELECT 'active' AS state, count(*) FROM accounts WHERE active UNION ALL SELECT 'inactive', count(*) FROM accounts WHERE NOT active

SELECT tablename FROM pg_tables WHERE schemaname = 'public' UNION SELECT viewname FROM pg_views WHERE schemaname = 'public'

SELECT relname, n_live_tup FROM pg_stat_user_tables ORDER BY n_live_tup DESC LIMIT 20

SELECT pid, state, query FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()

SELECT pg_size_pretty(pg_total_relation_size('orders'))

SELECT pg_sleep(0.1)

SELECT * FROM pg_stat_replication

EXPLAIN (ANALYZE, BUFFERS) SELECT id FROM orders WHERE customer_id = 42

VACUUM (ANALYZE) orders

ANALYZE orders

REFRESH MATERIALIZED VIEW CONCURRENTLY sales_by_day

CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_idx ON orders (customer_id) WHERE status <> 'cancelled'

ALTER TABLE orders ADD COLUMN IF NOT EXISTS note text

CREATE TABLE IF NOT EXISTS settings (key text PRIMARY KEY, value jsonb NOT NULL DEFAULT '{}'::jsonb)

CREATE OR REPLACE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$

CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch_updated_at()

CREATE POLICY tenant_isolation ON orders USING (tenant_id = current_setting('app.tenant_id')::int)

CREATE EXTENSION IF NOT EXISTS pgcrypto

CREATE EXTENSION IF NOT EXISTS "uuid-ossp"

GRANT SELECT, INSERT ON orders TO app_rw

GRANT app_ro TO reporting

ALTER ROLE app_rw SET statement_timeout = '30s'

COPY orders (id, total) FROM STDIN WITH (FORMAT csv)

COPY (SELECT id, total FROM orders WHERE created_at > now() - interval '1 day') TO STDOUT WITH (FORMAT csv, HEADER)

SELECT id FROM orders; SELECT id FROM customers

BEGIN; UPDATE accounts SET balance = balance - 100 WHERE id = 1; UPDATE accounts SET balance = balance + 100 WHERE id = 2; COMMIT

SELECT id FROM orders WHERE status = 'it''s -- not a comment'

SELECT id FROM orders -- recent orders first
ORDER BY created_at DESC

/* sqlcommenter */ SELECT id FROM orders WHERE id = $1 /*controller='orders',action='show',traceparent='00-5bd66ef5095369c7b0d1f8f4bd33716a-c532cb4098ac3dd2-01'*/

SELECT id FROM orders WHERE id = $1 /*application:Shop,controller:orders,action:show*/

SELECT id, amount FROM payments WHERE amount > 0 AND currency = 'EUR'

SELECT id FROM orders WHERE priority = 1 OR express

SELECT id FROM t WHERE a = 1 OR a = 2 OR a = 3

SELECT sum(amount) FILTER (WHERE amount > 0) AS credit, sum(amount) FILTER (WHERE amount < 0) AS debit FROM ledger WHERE account_id = $1

SELECT id, rank() OVER (ORDER BY score DESC) FROM players WHERE season = 2024

SELECT id FROM orders WHERE created_at::date = '2024-05-01'

SELECT id, total::int AS whole FROM orders WHERE total::int > 100

SELECT array_agg(id ORDER BY id) FROM orders WHERE customer_id = 3 GROUP BY customer_id

SELECT id FROM reports WHERE title ~* '^quarterly' OR title ~* 'annual'

SELECT id FROM products WHERE price BETWEEN 10 AND 20 OR on_sale

SELECT id FROM products WHERE (CASE WHEN discount > 0 THEN price - discount ELSE price END) < 50

SELECT * FROM orders WHERE id = 5

SELECT o.* FROM orders o WHERE o.customer_id = 42
