# pgbench's built-in scripts (PostgreSQL docs, pgbench "Built-in Scripts"),
# as pgbench sends them: -M simple with the \set variables substituted,
# -M extended/prepared with $n parameters, and the -i initialisation.
# Statements are separated by blank lines; lines starting with # are notes.

# tpcb-like, -M simple (two transactions)
BEGIN;

UPDATE pgbench_accounts SET abalance = abalance + 4012 WHERE aid = 873412;

SELECT abalance FROM pgbench_accounts WHERE aid = 873412;

UPDATE pgbench_tellers SET tbalance = tbalance + 4012 WHERE tid = 57;

UPDATE pgbench_branches SET bbalance = bbalance + 4012 WHERE bid = 6;

INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (57, 6, 873412, 4012, CURRENT_TIMESTAMP);

END;

BEGIN;

UPDATE pgbench_accounts SET abalance = abalance + -1777 WHERE aid = 12;

SELECT abalance FROM pgbench_accounts WHERE aid = 12;

UPDATE pgbench_tellers SET tbalance = tbalance + -1777 WHERE tid = 1;

UPDATE pgbench_branches SET bbalance = bbalance + -1777 WHERE bid = 1;

INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (1, 1, 12, -1777, CURRENT_TIMESTAMP);

END;

# simple-update, -M simple
BEGIN;

UPDATE pgbench_accounts SET abalance = abalance + -5000 WHERE aid = 999999;

SELECT abalance FROM pgbench_accounts WHERE aid = 999999;

INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (100, 10, 999999, -5000, CURRENT_TIMESTAMP);

END;

# select-only, -M simple
SELECT abalance FROM pgbench_accounts WHERE aid = 1;

SELECT abalance FROM pgbench_accounts WHERE aid = 654321;

# tpcb-like, -M extended / -M prepared
UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2;

SELECT abalance FROM pgbench_accounts WHERE aid = $1;

UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2;

UPDATE pgbench_branches SET bbalance = bbalance + $1 WHERE bid = $2;

INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP);

# pgbench -i (client-side generation)
drop table if exists pgbench_accounts, pgbench_branches, pgbench_history, pgbench_tellers

create table pgbench_history(tid int,bid int,aid    int,delta int,mtime timestamp,filler char(22))

create table pgbench_tellers(tid int not null,bid int,tbalance int,filler char(84)) with (fillfactor=100)

create table pgbench_accounts(aid    int not null,bid int,abalance int,filler char(84)) with (fillfactor=100)

create table pgbench_branches(bid int not null,bbalance int,filler char(88)) with (fillfactor=100)

begin

truncate table pgbench_accounts, pgbench_branches, pgbench_history, pgbench_tellers

insert into pgbench_branches(bid,bbalance) values(1,0)

insert into pgbench_tellers(tid,bid,tbalance) values (1,1,0)

copy pgbench_accounts from stdin with (freeze on)

commit

vacuum analyze pgbench_branches

vacuum analyze pgbench_tellers

alter table pgbench_branches add primary key (bid)

alter table pgbench_tellers add primary key (tid)

alter table pgbench_accounts add primary key (aid)

select count(*) from pgbench_branches

select o.n, p.partstrat, pg_catalog.count(i.inhparent) from pg_catalog.pg_class as c join pg_catalog.pg_namespace as n on (n.oid = c.relnamespace) cross join lateral (select pg_catalog.array_position(pg_catalog.current_schemas(true), n.nspname)) as o(n) left join pg_catalog.pg_partitioned_table as p on (p.partrelid = c.oid) left join pg_catalog.pg_inherits as i on (c.oid = i.inhparent) where c.relname = 'pgbench_accounts' and o.n is not null group by 1, 2 order by 1 asc limit 1
