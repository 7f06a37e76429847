-- Role definitions saved in the console, shared by every server and worker: each process lays them over the files of
-- ROLES_DIR at start and reloads a row whose version changed (orchestrator/role-sync.ts). Every save takes a new
-- version from the sequence, so a process tells changed rows apart by comparing (roleId, version) pairs.
CREATE TABLE "RoleDefinition" (
    "roleId" TEXT NOT NULL,
    "yaml" TEXT NOT NULL,
    "version" SERIAL NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedBy" TEXT NOT NULL,

    CONSTRAINT "RoleDefinition_pkey" PRIMARY KEY ("roleId")
);
