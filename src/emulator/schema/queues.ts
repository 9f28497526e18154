import { activeOrInactive, attr, date, entity, formatted, lookup, memo, picklist, str } from './build.js';

// Queues and what is in them ("Queue tables" in the Dataverse developer guide; the Queue and QueueItem table
// references). A queue is a list of work (cases and activities) that a group of people take items from; each
// record in one is a queue item naming the queue, the record (objectid) and who is working on it (workerid).

/** The tables whose records the emulator puts in queues: a case and the activities it has (queue-enabled). */
export const QUEUE_ENABLED: readonly string[] = ['incident', 'email', 'phonecall', 'task', 'appointment'];

export const queue = entity({
  logicalName: 'queue',
  entitySetName: 'queues',
  schemaName: 'Queue',
  displayName: 'Queue',
  displayCollectionName: 'Queues',
  primaryName: 'name',
  ownershipType: 'UserOwned',
  objectTypeCode: 2020,
  attributes: [
    str('name', 'Queue Name', 400, 'ApplicationRequired'),
    memo('description', 'Description'),
    formatted('Email', 'emailaddress', 'Incoming Email', 100),
    // "A public queue can be viewed by all. A private queue can be viewed only by the members added to it."
    picklist('queueviewtype', 'Type', [
      [0, 'Public'],
      [1, 'Private'],
    ]),
    ...activeOrInactive(),
  ],
});

/**
 * One record in a queue. Its title is copied from the record and its type (objecttypecode) follows it; when it
 * entered the queue (enteredon) and when someone last took it (workeridmodifiedon) are stamped, not written.
 * Who works on it (workerid, Worked By) is the column a team changes. It goes Inactive when its record does
 * (a case resolved or canceled, an activity completed) and is deleted with its record (queue-items.ts).
 */
export const queueitem = entity({
  logicalName: 'queueitem',
  entitySetName: 'queueitems',
  schemaName: 'QueueItem',
  displayName: 'Queue Item',
  displayCollectionName: 'Queue Items',
  primaryName: 'title',
  ownershipType: 'None',
  objectTypeCode: 2029,
  attributes: [
    attr('title', 'Title', 'String', { maxLength: 300, validForCreate: false, validForUpdate: false }),
    { ...lookup('queueid', 'Queue', ['queue'], 'ApplicationRequired'), validForUpdate: false },
    attr('objectid', 'Object', 'Lookup', {
      targets: [...QUEUE_ENABLED],
      requiredLevel: 'ApplicationRequired',
      validForUpdate: false,
    }),
    {
      ...picklist('objecttypecode', 'Type', [
        [112, 'Case'],
        [4201, 'Appointment'],
        [4202, 'Email'],
        [4210, 'Phone Call'],
        [4212, 'Task'],
      ]),
      validForCreate: false,
      validForUpdate: false,
    },
    attr('workerid', 'Worked By', 'Lookup', { targets: ['systemuser', 'team'] }),
    { ...date('workeridmodifiedon', 'Worked On'), validForCreate: false, validForUpdate: false },
    { ...date('enteredon', 'Entered Queue'), validForCreate: false, validForUpdate: false },
    ...activeOrInactive(),
  ],
});
