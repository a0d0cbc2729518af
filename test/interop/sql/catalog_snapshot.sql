-- Everything about taskauth's objects that an upgrade must get right, one line per fact, in a
-- stable order: used by upgrade.sh to compare an upgraded database with a fresh install.
WITH members AS (
    SELECT d.classid, d.objid
      FROM pg_depend d JOIN pg_extension e ON d.refobjid = e.oid
     WHERE d.refclassid = 'pg_extension'::regclass AND e.extname = 'taskauth' AND d.deptype = 'e'
)
SELECT line FROM (
    SELECT 'extension ' || extversion || ' config ' ||
           coalesce((SELECT string_agg(c::regclass::text, ',' ORDER BY c::regclass::text) FROM unnest(extconfig) c), '')
      FROM pg_extension WHERE extname = 'taskauth'
    UNION ALL
    SELECT 'function ' || p.oid::regprocedure || ' returns ' || pg_get_function_result(p.oid) ||
           ' args ' || pg_get_function_arguments(p.oid) ||
           ' lang ' || l.lanname || ' vol ' || p.provolatile::text || ' par ' || p.proparallel::text ||
           ' strict ' || p.proisstrict || ' secdef ' || p.prosecdef ||
           ' config ' || coalesce(array_to_string(p.proconfig, ','), '-') ||
           ' acl ' || coalesce(array_to_string(p.proacl, ','), 'default') ||
           ' src ' || md5(p.prosrc) || ' bin ' || coalesce(p.probin, '-') ||
           ' comment ' || coalesce(md5(obj_description(p.oid, 'pg_proc')), 'NONE')
      FROM members m JOIN pg_proc p ON m.classid = 'pg_proc'::regclass AND p.oid = m.objid
      JOIN pg_language l ON l.oid = p.prolang
    UNION ALL
    SELECT 'relation ' || c.oid::regclass || ' kind ' || c.relkind::text ||
           ' rls ' || c.relrowsecurity || ' force ' || c.relforcerowsecurity ||
           ' acl ' || coalesce(array_to_string(c.relacl, ','), 'default') ||
           ' comment ' || coalesce(md5(obj_description(c.oid, 'pg_class')), 'NONE')
      FROM members m JOIN pg_class c ON m.classid = 'pg_class'::regclass AND c.oid = m.objid
    UNION ALL
    SELECT 'column ' || c.oid::regclass || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) ||
           ' notnull ' || a.attnotnull || ' default ' || coalesce(pg_get_expr(ad.adbin, ad.adrelid), '-') ||
           ' stat ' || coalesce(a.attstattarget, -1) || ' acl ' || coalesce(array_to_string(a.attacl, ','), 'default') ||
           ' comment ' || coalesce(md5(col_description(c.oid, a.attnum)), 'NONE')
      FROM members m JOIN pg_class c ON m.classid = 'pg_class'::regclass AND c.oid = m.objid AND c.relkind = 'r'
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      LEFT JOIN pg_attrdef ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum
    UNION ALL
    SELECT 'index ' || i.indexrelid::regclass || ' ' || pg_get_indexdef(i.indexrelid) ||
           ' comment ' || coalesce(md5(obj_description(i.indexrelid, 'pg_class')), 'NONE')
      FROM members m JOIN pg_index i ON m.classid = 'pg_class'::regclass AND i.indrelid = m.objid
    UNION ALL
    SELECT 'constraint ' || co.conrelid::regclass || ' ' || pg_get_constraintdef(co.oid)
      FROM members m JOIN pg_constraint co ON m.classid = 'pg_class'::regclass AND co.conrelid = m.objid
    UNION ALL
    SELECT 'policy ' || po.polrelid::regclass || ' ' || po.polname || ' cmd ' || po.polcmd::text ||
           ' permissive ' || po.polpermissive || ' roles ' || po.polroles::text ||
           ' using ' || coalesce(pg_get_expr(po.polqual, po.polrelid), '-') ||
           ' check ' || coalesce(pg_get_expr(po.polwithcheck, po.polrelid), '-') ||
           ' comment ' || coalesce(md5(obj_description(po.oid, 'pg_policy')), 'NONE')
      FROM members m JOIN pg_policy po ON m.classid = 'pg_class'::regclass AND po.polrelid = m.objid
    UNION ALL
    SELECT 'trigger ' || t.tgrelid::regclass || ' ' || pg_get_triggerdef(t.oid) ||
           ' comment ' || coalesce(md5(obj_description(t.oid, 'pg_trigger')), 'NONE')
      FROM members m JOIN pg_trigger t ON m.classid = 'pg_class'::regclass AND t.tgrelid = m.objid
     WHERE NOT t.tgisinternal
    UNION ALL
    SELECT 'schema ' || n.nspname || ' acl ' || coalesce(array_to_string(n.nspacl, ','), 'default')
      FROM pg_namespace n WHERE n.nspname = 'taskauth'
    UNION ALL
    SELECT 'database setting ' || c
      FROM pg_db_role_setting s, unnest(s.setconfig) c
     WHERE s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND s.setrole = 0
) facts(line)
ORDER BY line;
