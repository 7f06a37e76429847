-- Workflow templates changed in the console (an experiment's winning template variation): laid over TEMPLATES_DIR.
CREATE TABLE "TemplateDefinition" (
    "templateId" TEXT NOT NULL,
    "yaml" TEXT NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 1,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedBy" TEXT NOT NULL,

    CONSTRAINT "TemplateDefinition_pkey" PRIMARY KEY ("templateId")
);
