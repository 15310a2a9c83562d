-- AlterTable
ALTER TABLE "alert_delivery" ADD COLUMN     "previous_severity" "Severity";
