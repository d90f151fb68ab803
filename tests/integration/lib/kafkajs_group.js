// kafkajs 2.2.4 consumer group against seglogd (run by
// tests/integration/0146-groups-kafkajs.sh).  Three kafkajs consumers join one
// group (kafkajs's RoundRobinAssigner) over a 6-partition topic; once the last
// GROUP_JOIN of each member gives it 2 partitions and together all 6, a kafkajs
// producer sends 300 records; the members must receive each exactly once, each
// from a partition of its own assignment.  Then all three disconnect
// (LeaveGroup) and a fourth consumer in the same group receives only records
// produced after that: the group resumed at its committed offsets.
// usage: node kafkajs_group.js MODULE_DIR PORT TOPIC GROUP
'use strict'
const path = require('path')
const [modDir, port, topic, group] = process.argv.slice(2)
const { Kafka, logLevel } = require(path.join(modDir, 'kafkajs'))

const NPART = 6
const N = 300
function fail(msg) {
  throw new Error(msg)
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
async function waitFor(cond, what, ms = 60000) {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (cond()) return
    await sleep(50)
  }
  fail(`timed out waiting for ${what}`)
}

async function main() {
  const kafka = new Kafka({ clientId: 'kjs-group', brokers: [`127.0.0.1:${port}`],
    logLevel: logLevel.NOTHING, retry: { retries: 10 } })
  const members = []
  for (let i = 0; i < 3; i++) {
    const m = { name: `kjs-${i}`, assigned: [], records: [] }
    m.consumer = kafka.consumer({ groupId: group, sessionTimeout: 10000,
      heartbeatInterval: 500, maxWaitTimeInMs: 100 })
    m.consumer.on(m.consumer.events.GROUP_JOIN, (e) => {
      m.assigned = (e.payload.memberAssignment[topic] || []).slice().sort((a, b) => a - b)
    })
    await m.consumer.connect()
    await m.consumer.subscribe({ topic, fromBeginning: true })
    await m.consumer.run({ autoCommitInterval: 200, eachMessage: async ({ partition, message }) => {
      m.records.push([partition, message.value.toString()])
    } })
    members.push(m)
  }
  const stable = () => {
    const seen = new Set()
    for (const m of members) {
      if (m.assigned.length !== 2) return false
      for (const p of m.assigned) seen.add(p)
    }
    return seen.size === NPART
  }
  await waitFor(stable, 'a stable group of three')
  const owned = members.map((m) => m.assigned.join(','))
  const producer = kafka.producer()
  await producer.connect()
  const msgs = []
  for (let i = 0; i < NPART; i++) msgs.push({ topic, messages: [] })
  for (let i = 0; i < N; i++) msgs[i % NPART].messages.push({ partition: i % NPART, value: `v${i}` })
  await producer.sendBatch({ topicMessages: msgs.map((t, p) => ({ topic, messages: t.messages })) })
  await waitFor(() => members.reduce((s, m) => s + m.records.length, 0) >= N, `${N} records`)
  await sleep(1000)
  const got = []
  members.forEach((m, i) => {
    if (m.assigned.join(',') !== owned[i]) fail(`${m.name}: assignment changed in a steady group`)
    for (const [p, v] of m.records) {
      if (!m.assigned.includes(p)) fail(`${m.name} got partition ${p}, owns ${m.assigned}`)
      got.push(v)
    }
  })
  if (new Set(got).size !== got.length) fail(`${got.length - new Set(got).size} records delivered twice`)
  for (let i = 0; i < N; i++) if (!got.includes(`v${i}`)) fail(`v${i} never delivered`)
  for (const m of members) await m.consumer.disconnect()

  // A later member resumes at the committed offsets.
  await producer.send({ topic, messages: [0, 1, 2, 3, 4, 5].map((p) => ({ partition: p, value: `late${p}` })) })
  await producer.disconnect()
  const late = []
  const c = kafka.consumer({ groupId: group, sessionTimeout: 10000, heartbeatInterval: 500,
    maxWaitTimeInMs: 100 })
  await c.connect()
  await c.subscribe({ topic, fromBeginning: true })
  await c.run({ eachMessage: async ({ message }) => { late.push(message.value.toString()) } })
  await waitFor(() => late.length >= 6, 'the 6 later records')
  await sleep(1000)
  await c.disconnect()
  const want = '["late0","late1","late2","late3","late4","late5"]'
  if (JSON.stringify(late.slice().sort()) !== want) fail(`resumed wrongly: ${JSON.stringify(late)}`)
  console.log(`kafkajs group: ${owned.map((o) => `[${o}]`).join(' ')}`)
}

main().then(() => process.exit(0), (e) => {
  console.error(`FAIL: ${e.message}`)
  process.exit(1)
})
