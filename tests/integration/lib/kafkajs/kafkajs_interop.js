// kafkajs 2.2.4 against seglogd (run by tests/integration/0109-broker-kafkajs.sh).
// Admin: createTopics (and again: "already exists" = false), listTopics,
// fetchTopicMetadata, fetchTopicOffsets before and after producing,
// fetchTopicOffsetsByTimestamp.  Producer: acks -1, keyed messages with
// headers and explicit timestamps, one GZIP batch per partition and one
// uncompressed batch; every returned baseOffset is checked.  Consumption:
// kafkajs's Consumer always joins a group (FindCoordinator/JoinGroup), which
// seglogd does not serve yet (issue 5), so the records are read back with
// MANUAL assignment through kafkajs's own Cluster/Broker objects: a raw Fetch
// per partition from offset 0 to the high watermark, decoded by kafkajs
// (including its GZIP codec).  Every record (offset, timestamp, key, value,
// headers) must equal what was sent.  The expected records are written as
// JSON lines to argv[4] for the shell to compare with `seglog consume -J`.
// usage: node kafkajs_interop.js MODULE_DIR PORT TOPIC EXPECTED_JSONL
'use strict'
const fs = require('fs')
const path = require('path')
const [modDir, port, topic, outPath] = process.argv.slice(2)
const { Kafka, CompressionTypes, logLevel } = require(path.join(modDir, 'kafkajs'))

const NPART = 3
const BASE_TS = 1700000000000

function fail(msg) {
  throw new Error(msg)
}
function eq(what, got, want) {
  const g = JSON.stringify(got)
  const w = JSON.stringify(want)
  if (g !== w) fail(`${what}: got ${g}, want ${w}`)
}

// Record i goes to partition i % NPART; keys and values are distinct per
// record, headers vary in count (0..2) and one repeats a key.
function makeRecord(i, gzip) {
  const headers = {}
  if (i % 3 >= 1) headers['h-idx'] = `${i}`
  if (i % 3 === 2) headers.trace = `t${i * 7}`
  return {
    partition: i % NPART,
    key: `key-${gzip ? 'z' : 'n'}-${i}`,
    value: `${gzip ? 'gzip' : 'none'} value ${i} ` + 'x'.repeat(i * 5),
    headers,
    timestamp: `${BASE_TS + i}`,
  }
}

async function main() {
  const kafka = new Kafka({
    clientId: 'seglog-0109',
    brokers: [`127.0.0.1:${port}`],
    logLevel: logLevel.WARN,
    retry: { retries: 3, initialRetryTime: 100 },
  })

  const admin = kafka.admin()
  await admin.connect()
  eq('createTopics', await admin.createTopics({
    waitForLeaders: true,
    topics: [{ topic, numPartitions: NPART, replicationFactor: 1 }],
  }), true)
  eq('createTopics again', await admin.createTopics({
    topics: [{ topic, numPartitions: NPART, replicationFactor: 1 }],
  }), false)
  if (!(await admin.listTopics()).includes(topic)) fail('listTopics lacks the topic')

  const md = await admin.fetchTopicMetadata({ topics: [topic] })
  eq('metadata topics', md.topics.map(t => t.name), [topic])
  const parts = md.topics[0].partitions.slice().sort((a, b) => a.partitionId - b.partitionId)
  eq('partition ids', parts.map(p => p.partitionId), [0, 1, 2])
  for (const p of parts) {
    eq(`p${p.partitionId} error`, p.partitionErrorCode, 0)
    eq(`p${p.partitionId} replicas`, p.replicas, [p.leader])
    eq(`p${p.partitionId} isr`, p.isr, [p.leader])
  }

  const sortOffs = o => o.slice().sort((a, b) => a.partition - b.partition)
  eq('offsets before', sortOffs(await admin.fetchTopicOffsets(topic)),
    [0, 1, 2].map(p => ({ partition: p, offset: '0', high: '0', low: '0' })))

  // GZIP batch: 30 records (10 per partition); then an uncompressed one: 12.
  const gz = Array.from({ length: 30 }, (_, i) => makeRecord(i, true))
  const plain = Array.from({ length: 12 }, (_, i) => makeRecord(100 + i, false))
  const producer = kafka.producer({ allowAutoTopicCreation: false })
  await producer.connect()
  const r1 = await producer.send({ topic, acks: -1, compression: CompressionTypes.GZIP, messages: gz })
  const r2 = await producer.send({ topic, acks: -1, compression: CompressionTypes.None, messages: plain })
  await producer.disconnect()
  const base = res => sortOffs(res.map(r => ({ partition: r.partition, errorCode: r.errorCode, baseOffset: r.baseOffset })))
  eq('gzip send', base(r1), [0, 1, 2].map(p => ({ partition: p, errorCode: 0, baseOffset: '0' })))
  eq('plain send', base(r2), [0, 1, 2].map(p => ({ partition: p, errorCode: 0, baseOffset: '10' })))

  // Offsets each record must have, per partition in send order.
  const expected = [[], [], []]
  for (const m of [...gz, ...plain]) {
    const list = expected[m.partition]
    list.push({ ...m, offset: `${list.length}` })
  }
  eq('offsets after', sortOffs(await admin.fetchTopicOffsets(topic)),
    [0, 1, 2].map(p => ({ partition: p, offset: '14', high: '14', low: '0' })))
  // The first record with timestamp >= BASE_TS + 100 is the first uncompressed one.
  eq('offsets by timestamp', sortOffs(await admin.fetchTopicOffsetsByTimestamp(topic, BASE_TS + 100)),
    [0, 1, 2].map(p => ({ partition: p, offset: '10' })))
  await admin.disconnect()

  // Manual assignment: kafkajs's Cluster (the one its Kafka object builds for
  // producers/consumers; reached through its private factory symbol) and a
  // raw Fetch through the partition leader's Broker connection.
  const sym = Object.getOwnPropertySymbols(kafka).find(s => s.description === 'private:Kafka:createCluster')
  if (!sym) fail('kafkajs internals changed: no createCluster symbol')
  const cluster = kafka[sym]({ allowAutoTopicCreation: false })
  await cluster.connect()
  await cluster.addTargetTopic(topic)
  await cluster.refreshMetadata()
  const got = [[], [], []]
  for (let p = 0; p < NPART; p++) {
    const leaders = cluster.findLeaderForPartitions(topic, [p])
    const nodeId = Object.keys(leaders)[0]
    const broker = await cluster.findBroker({ nodeId })
    let next = 0
    for (let round = 0; round < 50 && next < expected[p].length; round++) {
      const res = await broker.fetch({
        replicaId: -1,
        isolationLevel: 1,
        maxWaitTime: 100,
        minBytes: 1,
        maxBytes: 1 << 20,
        topics: [{ topic, partitions: [{ partition: p, fetchOffset: `${next}`, maxBytes: 1 << 20 }] }],
      })
      const pr = res.responses[0].partitions[0]
      eq(`fetch p${p} error`, pr.errorCode, 0)
      eq(`fetch p${p} high watermark`, pr.highWatermark, '14')
      for (const m of pr.messages) {
        if (Number(m.offset) < next) continue // a batch starts before the fetch offset
        const headers = {}
        for (const [k, v] of Object.entries(m.headers || {})) headers[k] = v.toString()
        got[p].push({
          partition: p,
          key: m.key.toString(),
          value: m.value.toString(),
          headers,
          timestamp: m.timestamp,
          offset: m.offset,
        })
        next = Number(m.offset) + 1
      }
    }
    eq(`records p${p}`, got[p], expected[p])
  }
  await cluster.disconnect()

  const lines = []
  for (const list of expected) {
    for (const m of list) {
      lines.push(JSON.stringify({
        partition: m.partition, offset: Number(m.offset), ts: Number(m.timestamp),
        key: m.key, payload: m.value, headers: Object.entries(m.headers).flat(),
      }))
    }
  }
  fs.writeFileSync(outPath, lines.join('\n') + '\n')
  console.log(`kafkajs: ${lines.length} records produced and fetched back`)
}

main().then(() => process.exit(0), e => {
  console.error(`FAIL: ${e.stack || e}`)
  process.exit(1)
})
