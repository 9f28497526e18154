import {
  activeOrInactive,
  attr,
  bool,
  date,
  entity,
  int,
  lookup,
  memo,
  picklist,
  stateAndStatus,
  str,
} from './build.js';

// The knowledge base a support team answers from ("Knowledge Article (KnowledgeArticle) table/entity reference"
// and "Knowledge Article Incident (KnowledgeArticleIncident)", Microsoft Dynamics 365): articles with their HTML
// content, keywords, public number, version and life cycle, and which articles were used on which case.
// Not modelled: languagelocaleid (SystemRequired there; the emulator has no languagelocale table),
// translations, and versions made by CreateKnowledgeArticleVersion (seeded versions are rows of their own).

/**
 * An article. Its state is its place in the life cycle (statecode's description: "Draft articles aren't
 * available externally and can be edited. Published articles are available externally … but can't be edited.
 * … Archived and discarded articles aren't available externally and can't be edited"); each version of an
 * article is a row, islatestversion marking the newest (rootarticleid, whose navigation property is RootArticleId, not modelled).
 */
export const knowledgearticle = entity({
  logicalName: 'knowledgearticle',
  entitySetName: 'knowledgearticles',
  schemaName: 'KnowledgeArticle',
  displayName: 'Knowledge Article',
  displayCollectionName: 'Knowledge Articles',
  primaryName: 'title',
  ownershipType: 'UserOwned',
  // KnowledgeArticle's entity type code (9953) as Dataverse numbers it
  objectTypeCode: 9953,
  attributes: [
    str('title', 'Title', 4000, 'SystemRequired'),
    str('articlepublicnumber', 'Article Public Number', 4000, 'SystemRequired'),
    // "Shows the body of the article stored in HTML format."
    memo('content', 'Content', 1_073_741_823),
    // "A short overview of the article, primarily used in search results"
    str('description', 'Description', 155),
    // "Separate keywords by using commas."
    memo('keywords', 'Keywords', 4000),
    { ...bool('isinternal', 'Internal'), defaultValue: false },
    { ...bool('islatestversion', 'Is Latest Version'), requiredLevel: 'SystemRequired', defaultValue: false },
    { ...bool('isprimary', 'Primary Article'), defaultValue: false },
    {
      ...bool('isrootarticle', 'Root Article'),
      defaultValue: false,
      requiredLevel: 'SystemRequired',
      validForCreate: false,
      validForUpdate: false,
    },
    { ...int('majorversionnumber', 'Major Version Number', 0), requiredLevel: 'SystemRequired' },
    { ...int('minorversionnumber', 'Minor Version Number', 0), requiredLevel: 'SystemRequired' },
    lookup('primaryauthorid', 'Primary Author', ['systemuser']),
    date('publishon', 'Publish On'),
    date('expirationdate', 'Expiration Date'),
    // read-only counters Dynamics keeps (portal and app views, readers' ratings)
    { ...int('knowledgearticleviews', 'Knowledge Article Views', 0), validForCreate: false, validForUpdate: false },
    {
      ...attr('rating', 'Rating', 'Decimal', { precision: 2, minValue: -100_000_000_000, maxValue: 100_000_000_000 }),
      validForCreate: false,
      validForUpdate: false,
    },
    ...stateAndStatus(
      [
        [0, 'Draft', 1],
        [1, 'Approved', 5],
        [2, 'Scheduled', 6],
        [3, 'Published', 7],
        [4, 'Expired', 10],
        [5, 'Archived', 12],
        [6, 'Discarded', 13],
      ],
      [
        [1, 'Proposed', 0],
        [2, 'Draft', 0],
        [3, 'Needs review', 0],
        [4, 'In review', 0],
        [5, 'Approved', 1],
        [6, 'Scheduled', 2],
        [7, 'Published', 3],
        [8, 'Needs review', 3],
        [9, 'Updating', 3],
        [10, 'Expired', 4],
        [11, 'Rejected', 4],
        [12, 'Archived', 5],
        [13, 'Discarded', 6],
        [14, 'Rejected', 6],
      ],
    ),
  ],
});

/**
 * An article used on a case ("Association between an knowledge article and incident"): how it was used
 * (knowledgeusage: Reference, Solution or Source) and whether its link was sent to the customer. Its primary
 * name is the article's title (knowledgearticleidname on the reference page), kept here as a column of its own.
 */
export const knowledgearticleincident = entity({
  logicalName: 'knowledgearticleincident',
  entitySetName: 'knowledgearticleincidents',
  schemaName: 'KnowledgeArticleIncident',
  displayName: 'Knowledge Article Incident',
  displayCollectionName: 'Knowledge Article Incidents',
  primaryName: 'knowledgearticleidname',
  ownershipType: 'UserOwned',
  objectTypeCode: 9954,
  attributes: [
    lookup('knowledgearticleid', 'Knowledge Article', ['knowledgearticle']),
    attr('knowledgearticleidname', 'Knowledge Article', 'String', {
      maxLength: 4000,
      validForCreate: false,
      validForUpdate: false,
    }),
    lookup('incidentid', 'Incident', ['incident']),
    { ...bool('issenttocustomer', 'Sent To Customer'), requiredLevel: 'ApplicationRequired', defaultValue: false },
    picklist('knowledgeusage', 'Knowledge Usage', [
      [1, 'Reference'],
      [2, 'Solution'],
      [3, 'Source'],
    ]),
    ...activeOrInactive(),
  ],
});
