import Database from 'better-sqlite3';
const db = new Database(process.argv[2], { readonly: true });
console.log(db.prepare("select kind, state, count(*) n, max(attempts) a from jobs group by kind, state").all());
console.log(db.prepare("select entity_type, state, count(*) n from links group by 1,2").all());
console.log(db.prepare("select action, outcome, count(*) n from audit group by 1,2").all());
console.log(db.prepare("select id, state, last_error, in_doubt from jobs where kind='orders.push' and last_error is not null limit 3").all());
