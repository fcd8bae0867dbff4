"""Life-insurance actuarial engine: tables, life contingencies, the increasing whole-life
product, policy illustrations, portfolio valuation and a level-term peer model."""
