"""Online doctor consultation for elders (issue 19): requests and the doctor's queue, text
threads, clinical records and prescriptions, FHIR R4 export."""
